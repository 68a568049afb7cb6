"""`casetrail agency …` and `user add --agency`: the agency tree from the command line. Faults exit 2 with one
line naming the field or the article, and nothing is written."""

from __future__ import annotations

import json

from tests.integration.test_cli import _open, cli  # noqa: F401 (the fixture)

HP = ("agency", "add", "cz-hp", "--name", "呈州市和平区卫生健康局", "--short", "和卫", "--parent", "cz", "--level",
      "county", "--case-prefix", "和卫投", "--penalty-prefix", "和卫罚", "--court", "呈州市和平区人民法院")


def _admin(cli) -> None:  # noqa: F811
    added = cli("user", "add", "admin", "--name", "蒋管理", "--role", "admin", "--password", "pw-lantern-2026")
    assert added.exit_code == 0, added.output


def _listed(cli) -> list[tuple[str, int]]:  # noqa: F811
    return [(a["code"], a["depth"]) for a in json.loads(cli("agency", "list", "--json").output)]


def test_an_administrator_builds_the_tree_and_a_district_clerk_registers_a_district_case(cli, tmp_path):  # noqa: F811
    _admin(cli)
    assert cli(*HP, "--user", "admin").exit_code == 0
    station = cli("agency", "add", "cz-hp-ds", "--name", "和平区东山卫生监督所", "--short", "和东卫", "--parent", "cz-hp",
                  "--level", "station", "--case-prefix", "和东卫投", "--penalty-prefix", "和东卫罚", "--user", "admin")
    assert station.exit_code == 0, station.output
    assert _listed(cli) == [("cz", 0), ("cz-hp", 1), ("cz-hp-ds", 2)]
    text = cli("agency", "list").output.splitlines()
    assert text[1].startswith("  cz-hp  呈州市和平区卫生健康局") and text[2].startswith("    cz-hp-ds")
    set_ = cli("agency", "set", "cz-hp", "--setting", "thresholds.hearing_large_fine_citizen=3000", "--setting",
               "legal_review.all_general_procedure=false", "--user", "admin", "--json")
    assert set_.exit_code == 0, set_.output
    shown = json.loads(cli("agency", "show", "cz-hp-ds", "--json").output)
    assert shown["effective"]["thresholds.hearing_large_fine_citizen"] == 3000  # inherited from 和平区
    assert shown["document_numbers"]["penalty_prior_notice"] == "和东卫罚告"
    assert "thresholds.hearing_large_fine_citizen = 3000" in cli("agency", "show", "cz-hp").output
    clerk = cli("user", "add", "hp.clerk", "--name", "刘受理", "--role", "intake", "--password", "pw-lantern-2026",
                "--pin", "123456", "--agency", "cz-hp", "--json")
    assert json.loads(clerk.output)["agency"] == "cz-hp"
    assert any(line.split()[:3] == ["hp.clerk", "刘受理", "cz-hp"] for line in cli("user", "list").output.splitlines())
    moved = cli("user", "set-agency", "officer1", "--agency", "cz-hp-ds", "--by", "admin", "--reason", "轮岗", "--json")
    assert json.loads(moved.output)["agency"] == "cz-hp-ds"
    assert cli("user", "set-agency", "officer1", "--agency", "cz-hp-ds").exit_code == 2  # already there
    complaint = tmp_path / "complaint.json"
    _open(cli, tmp_path)  # the city's clerk: a city case (writes complaint.json)
    opened = cli("case", "open", "--data", str(complaint), "--user", "hp.clerk", "--pin", "123456", "--json")
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.output)["number"] == "和卫投〔2026〕0001号"


def test_faults_exit_2_with_one_line_and_nothing_written(cli):  # noqa: F811
    _admin(cli)
    cases = [
        ((*HP, "--user", "head"), "admin"),  # not an administrator
        ((*HP[:8], "nowhere", *HP[9:], "--user", "admin"), "nowhere"),
        ((*HP[:10], "province", *HP[11:], "--user", "admin"), "level"),
        ((*HP[:12], "呈卫投", *HP[13:], "--user", "admin"), "呈卫投"),  # the city's case numbers
        (("agency", "set", "cz", "--setting", "panel.size=5", "--user", "admin"), "agency_settings"),
        (("agency", "set", "cz", "--setting", "thresholds.hearing_large_fine_citizen=abc", "--user", "admin"),
         "第六十三条"),
        (("agency", "set", "cz", "--setting", "no-equals-sign", "--user", "admin"), "KEY=VALUE"),
        (("agency", "set", "cz", "--setting", "legal_review.all_general_procedure=false", "--setting",
          "thresholds.hearing_large_fine_citizen=-5", "--user", "admin"), "第六十三条"),  # the first is not written
        (("agency", "deactivate", "cz", "--reason", "x", "--user", "admin"), "home agency"),
        (("agency", "show", "nowhere"), "nowhere"),
        (("user", "add", "x.clerk", "--name", "某", "--role", "intake", "--password", "pw-lantern-2026", "--agency",
          "nowhere"), "nowhere"),
    ]
    for args, named in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        [line] = [x for x in result.stderr.splitlines() if x.strip()]
        assert line.startswith("error: ") and named in line, (args, line)
    assert _listed(cli) == [("cz", 0)]
    assert json.loads(cli("agency", "show", "cz", "--json").output)["settings"] == {}
    assert "x.clerk" not in cli("user", "list").output


def test_an_administrator_sets_a_territory_and_a_districts_admin_lists_its_own_people(cli):  # noqa: F811
    _admin(cli)
    assert cli(*HP, "--user", "admin").exit_code == 0
    for user_id, role in (("hp.admin", "admin"), ("hp.officer", "officer")):
        added = cli("user", "add", user_id, "--name", "和平区人", "--role", role, "--password", "pw-lantern-2026",
                    "--agency", "cz-hp")
        assert added.exit_code == 0, added.output
    done = cli("agency", "areas", "cz-hp", "--set", "和平区", "--set", "东山街道", "--user", "hp.admin")
    assert done.exit_code == 0, done.output
    assert "和平区、东山街道" in done.output
    assert json.loads(cli("agency", "show", "cz-hp", "--json").output)["settings"]["areas"] == ["和平区", "东山街道"]
    assert "辖区 (areas) 和平区、东山街道" in cli("agency", "show", "cz-hp").output
    for args, named in [
        (("agency", "areas", "cz", "--set", "呈州市", "--user", "hp.admin"), "cz"),  # the city above: not theirs
        (("agency", "areas", "cz-hp", "--user", "admin"), "--clear"),  # neither names nor --clear
        (("agency", "areas", "cz-hp", "--set", "和平区", "--clear", "--user", "admin"), "--clear"),  # both
        (("agency", "areas", "cz-hp", "--set", "和平区", "--set", "东山街道", "--user", "admin"), "未改变"),
    ]:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        [line] = [x for x in result.stderr.splitlines() if x.strip()]
        assert line.startswith("error: ") and named in line, (args, line)
    assert json.loads(cli("agency", "show", "cz", "--json").output)["settings"] == {}
    cleared = cli("agency", "areas", "cz-hp", "--clear", "--user", "admin", "--json")
    assert cleared.exit_code == 0 and "areas" not in json.loads(cleared.output)["settings"]
    theirs = {u["id"] for u in json.loads(cli("user", "list", "--user", "hp.admin", "--json").output)}
    assert theirs == {"hp.admin", "hp.officer"}
    everyone = {u["id"] for u in json.loads(cli("user", "list", "--json").output)}
    assert {"hp.admin", "hp.officer", "admin", "officer1"} <= everyone
    assert everyone == {u["id"] for u in json.loads(cli("user", "list", "--user", "admin", "--json").output)}


def test_a_districts_admin_is_refused_another_agency_on_the_command_line_the_operator_is_not(cli):  # noqa: F811
    _admin(cli)
    assert cli(*HP, "--user", "admin").exit_code == 0
    for user_id, role in (("hp.admin", "admin"), ("hp.officer", "officer")):
        assert cli("user", "add", user_id, "--name", "和平区人", "--role", role, "--password", "pw-lantern-2026",
                   "--agency", "cz-hp").exit_code == 0  # the operator: into any agency
    city = json.loads(cli("agency", "show", "cz", "--json").output)
    for args in [
        ("agency", "edit", "cz", "--court", "某法院", "--user", "hp.admin"),  # the city above them
        ("agency", "set", "cz", "--setting", "thresholds.hearing_large_fine_citizen=3000", "--user", "hp.admin"),
        ("user", "set-agency", "officer1", "--agency", "cz-hp", "--by", "hp.admin", "--reason", "轮岗"),
        ("user", "set-agency", "hp.officer", "--agency", "cz", "--by", "hp.admin", "--reason", "轮岗"),
        ("user", "end-sessions", "officer1", "--by", "hp.admin", "--reason", "电脑遗失"),
        ("user", "set-password", "officer1", "--password", "a-long-new-password-9", "--by", "hp.admin", "--reason", "忘记"),
    ]:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        [line] = [x for x in result.stderr.splitlines() if x.strip()]
        assert line.startswith("error: ") and "系统管理员" in line and " cz" in line, (args, line)
    assert json.loads(cli("agency", "show", "cz", "--json").output) == city  # nothing written
    assert {u["id"]: u["agency"] for u in json.loads(cli("user", "list", "--json").output)
            if u["id"] in ("officer1", "hp.officer")} == {"officer1": "cz", "hp.officer": "cz-hp"}
    assert cli("agency", "edit", "cz-hp", "--court", "和平区人民法院二庭", "--user", "hp.admin").exit_code == 0  # theirs
    moved = cli("user", "set-agency", "officer1", "--agency", "cz-hp", "--reason", "轮岗", "--json")  # the operator
    assert moved.exit_code == 0 and json.loads(moved.output)["agency"] == "cz-hp"
