"""The CLI contract: command names, JSON output, exit 2 with a one-line message."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.demo_users import DEMO_PIN, demo_certificate
from engine.spiff.driving import intake_data
from engine.values import fixed_clock
from tests.conftest import at, link_font_cache
from tests.dbtemplates import open_services


@pytest.fixture
def cli(db_url, monkeypatch, tmp_path, font_cache):
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", db_url)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "data"))
    link_font_cache(tmp_path / "data", font_cache)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        # The commands run on a clock of 2 Nov 2026 09:00 Beijing time, each on services of its own (a process
        # of its own in real use) over the CLI's database and keys, at the tests' password and PIN-key costs.
        svc = open_services(db_url, tmp_path / "data" / "keys")
        try:
            return runner.invoke(main, list(args), input=input, catch_exceptions=False,
                                 obj={"clock": fixed_clock(at("2026-11-02 09:00")), "svc": svc})
        finally:
            svc.engine.dispose()

    assert run("init").exit_code == 0
    for user_id, name, role in (("clerk", "李受理", "intake"), ("head", "陈局长", "head"),
                                ("officer1", "王承办", "officer"), ("officer2", "赵承办", "officer")):
        certificate = demo_certificate(user_id)  # officers hold a 执法证 (行政处罚法 第四十二条)
        cert = ("--cert-no", certificate["cert_no"], "--cert-valid-until", certificate["cert_valid_until"].isoformat()) \
            if certificate else ()
        result = run("user", "add", user_id, "--name", name, "--role", role, "--password", "pw-lantern-2026",
                     "--pin", DEMO_PIN, *cert)
        assert result.exit_code == 0, result.output
    return run


def _open(cli, tmp_path) -> dict:
    path = tmp_path / "complaint.json"
    path.write_text(json.dumps(intake_data(now=at("2026-11-02 09:00")), ensure_ascii=False), encoding="utf-8")
    result = cli("case", "open", "--data", str(path), "--user", "clerk", "--pin", DEMO_PIN, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_open_list_show_case_as_json(cli, tmp_path):
    opened = _open(cli, tmp_path)
    assert opened["number"].startswith("呈卫投〔") and opened["number"].endswith("0001号")
    listed = json.loads(cli("case", "list", "--json").output)
    assert [(c["id"], c["number"], c["stage"], c["outcome"]) for c in listed] == [
        (opened["id"], opened["number"], "acceptance", "open")]
    shown = json.loads(cli("case", "show", opened["number"], "--json").output)
    assert [t["spec_id"] for t in shown["open_tasks"]] == ["acceptance_review"]
    assert shown["events"][0]["kind"] == "opened"


def test_task_show_includes_form_schema_and_complete_moves_the_case(cli, tmp_path):
    opened = _open(cli, tmp_path)
    tasks = json.loads(cli("task", "list", "--user", "head", "--json").output)
    assert [t["spec_id"] for t in tasks] == ["acceptance_review"]
    task_id = tasks[0]["id"]
    shown = json.loads(cli("task", "show", task_id, "--json").output)
    assert shown["form_schema"]["properties"]["acceptance_decision"]["enum"] == ["accept", "not_accept", "transfer", "hand_over"]
    assert cli("task", "claim", task_id, "--user", "head").exit_code == 0
    form = tmp_path / "form.json"
    form.write_text(json.dumps({"acceptance_decision": "accept", "acceptance_opinion": "同意受理，转公共场所科办理",
                                "case_summary": "美容店无证经营", "unit": "公共场所卫生监督科",
                                "case_officers": ["officer1", "officer2"]}, ensure_ascii=False), encoding="utf-8")
    result = cli("task", "complete", task_id, "--user", "head", "--data", str(form), "--pin", DEMO_PIN)
    assert result.exit_code == 0, result.output
    shown = json.loads(cli("case", "show", str(opened["id"]), "--json").output)
    assert shown["stage"] == "filing"
    officer_tasks = json.loads(cli("task", "list", "--user", "officer1", "--json").output)
    assert [t["spec_id"] for t in officer_tasks] == ["preliminary_check"]
    assert json.loads(cli("task", "list", "--user", "clerk", "--json").output) == []


def test_task_assign_is_signed_by_the_head_and_a_wrong_pin_changes_nothing(cli, tmp_path):
    _open(cli, tmp_path)
    [task] = json.loads(cli("task", "list", "--user", "head", "--json").output)
    wrong = cli("task", "assign", task["id"], "--to", "head", "--by", "head", "--pin", "000000")
    assert wrong.exit_code == 2 and "PIN" in wrong.output
    assert json.loads(cli("task", "show", task["id"], "--json").output)["assignee"] is None
    done = cli("task", "assign", task["id"], "--to", "head", "--by", "head", "--pin", DEMO_PIN, "--reason", "集中受理")
    assert done.exit_code == 0, done.output
    assert json.loads(cli("task", "show", task["id"], "--json").output)["assignee"] == "head"
    [report] = json.loads(cli("verify", "--all", "--json").output)
    assert [s["task_spec_id"] for s in report["steps"]] == ["start", "casetrail:reassign"]


@pytest.mark.parametrize("args, message", [
    (("case", "show", "呈卫投〔2026〕9999号"), "no such case"),
    (("task", "show", "00000000-0000-0000-0000-000000000000"), "no such task"),
    (("user", "add", "x", "--name", "某", "--role", "wizard", "--password", "pw-lantern-2026"), "unknown roles"),
])
def test_errors_exit_2_with_one_line(cli, args, message):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]


def test_malformed_json_and_invalid_form_write_nothing(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["case", "open", "--data", str(bad), "--user", "clerk"])
    assert result.exit_code == 2 and "malformed JSON" in result.output
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"channel": "hotline_12345"}), encoding="utf-8")
    result = CliRunner().invoke(main, ["case", "open", "--data", str(incomplete), "--user", "clerk"])
    assert result.exit_code == 2 and "respondent" in result.output
    assert json.loads(cli("case", "list", "--json").output) == []


def test_wrong_role_cannot_open_a_case(cli, tmp_path):
    path = tmp_path / "complaint.json"
    path.write_text(json.dumps(intake_data(now=at("2026-11-02 09:00")), ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["case", "open", "--data", str(path), "--user", "officer1"])
    assert result.exit_code == 2 and "intake" in result.output


def test_timers_run_with_now_raises_supervision_task(cli, tmp_path):
    _open(cli, tmp_path)
    # acceptance_review: 7 working days from Mon 2 Nov 2026, warned 2 working days before the end.
    result = cli("timers", "run", "--now", "2026-11-03T09:00+08:00", "--json")
    assert json.loads(result.output) == []
    result = cli("timers", "run", "--now", "2026-11-11T09:00+08:00", "--json")
    fired = json.loads(result.output)
    assert len(fired) == 1 and fired[0]["case"].endswith("0001号")
    head_tasks = json.loads(cli("task", "list", "--user", "head", "--json").output)
    supervision = [t for t in head_tasks if t["supervision"]]
    assert len(supervision) == 1 and "督办" in supervision[0]["name"]
