"""People are chosen, not typed, on the command line too: `task complete` takes login ids, checked like a page's
picker — a lapsed 执法证 or someone outside the role is refused (exit 2, one line naming the field), nothing written."""

from __future__ import annotations

import json

from tests.integration.test_cli import _open, cli  # noqa: F401 (the fixture)

ACCEPT = {"acceptance_decision": "accept", "acceptance_opinion": "同意受理", "case_summary": "美容店无证经营",
          "unit": "公共场所卫生监督科"}


def _acceptance(cli, tmp_path, officers: list[str]) -> tuple[str, object]:  # noqa: F811
    opened = _open(cli, tmp_path)
    [task] = [t for t in json.loads(cli("task", "list", "--user", "head", "--json").output)
              if t["case_number"] == opened["number"]]
    form = tmp_path / "form.json"
    form.write_text(json.dumps({**ACCEPT, "case_officers": officers}, ensure_ascii=False), encoding="utf-8")
    return opened["number"], cli("task", "complete", task["id"], "--user", "head", "--data", str(form),
                                 "--pin", "123456")


def _nothing_written(cli, number: str) -> None:  # noqa: F811
    shown = json.loads(cli("case", "show", number, "--json").output)
    assert shown["stage"] == "acceptance"
    assert [t["spec_id"] for t in shown["open_tasks"]] == ["acceptance_review"]


def test_a_lapsed_enforcement_certificate_is_refused_citing_article_42(cli, tmp_path):  # noqa: F811
    lapsed = cli("user", "set-cert", "officer2", "--cert-no", "呈卫执 2020-0102", "--cert-valid-until", "2026-10-31",
                 "--reason", "证件到期")
    assert lapsed.exit_code == 0, lapsed.output
    eligible = json.loads(cli("user", "eligible", "--role", "officer", "--json").output)
    assert [p["id"] for p in eligible] == ["officer1"]  # on 2 Nov 2026 officer2's certificate has lapsed
    number, result = _acceptance(cli, tmp_path, ["officer1", "officer2"])
    assert result.exit_code == 2
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert "case_officers/1" in line and "2026-10-31" in line and "第四十二条" in line
    _nothing_written(cli, number)


def test_someone_outside_the_role_or_unknown_is_refused_by_login_id(cli, tmp_path):  # noqa: F811
    number, result = _acceptance(cli, tmp_path, ["officer1", "clerk"])
    assert result.exit_code == 2
    assert "case_officers/1" in result.stderr and "clerk" in result.stderr and "承办人" in result.stderr
    _nothing_written(cli, number)
    _, typo = _acceptance(cli, tmp_path, ["officer1", "officer7"])
    assert typo.exit_code == 2 and "officer7" in typo.stderr


def test_an_administrator_renews_the_certificate_and_the_officer_may_be_chosen_again(cli, tmp_path):  # noqa: F811
    assert cli("user", "set-cert", "officer2", "--cert-no", "呈卫执 2020-0102", "--cert-valid-until",
               "2026-10-31").exit_code == 0
    renewed = cli("user", "set-cert", "officer2", "--cert-no", "呈卫执 2026-0102", "--cert-valid-until", "2031-10-31",
                  "--json")
    assert json.loads(renewed.output)["cert_valid_until"] == "2031-10-31"
    number, result = _acceptance(cli, tmp_path, ["officer1", "officer2"])
    assert result.exit_code == 0, result.output
    assert json.loads(cli("case", "show", number, "--json").output)["stage"] == "filing"


def test_a_bad_certificate_number_or_a_validity_without_one_is_refused(cli):  # noqa: F811
    bad = cli("user", "set-cert", "officer2", "--cert-no", "<script>", "--cert-valid-until", "2031-10-31")
    assert bad.exit_code == 2 and "执法证号" in bad.stderr
    orphan = cli("user", "set-cert", "officer2", "--cert-valid-until", "2031-10-31")
    assert orphan.exit_code == 2 and "cert_valid_until" in orphan.stderr
