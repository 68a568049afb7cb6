"""One answer everywhere: the case page, /api and the CLI show each role the same thing of one case (the
complainant's identity, a sealed vote), and a page offers a task's form only to who the engine lets act."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import Forbidden
from engine.rules import duties
from engine.usecases.access import person_of
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.usecases.viewer import case_for_viewer, task_for_viewer
from engine.values import CompleteTask
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import played
from tests.web.webcases import scenario
from tests.web.webhelpers import PIN, login, post

COMPLAINT = {"complainant": {"anonymous": False, "name": "张秘密", "phone": "13912345678", "address": "呈州市秘密路1号",
                             "id_number": "330102199001011234"},
             "content": "美容店无证营业。我的电话13912345678。"}
SECRET_NAME, SECRET_PHONE = "张秘密", "13912345678"
OPINION = "甲意见：事实清楚，建议罚款三千元。"
VOTING = played("a case with a named complainant up to the panel vote", scenario(intake=COMPLAINT), "panel_vote")

# Every role of workflows/roles.json and the two outside the process, each by one demo user: whether they see
# the case at all (per-case need-to-know: the legal reviewer and the publisher have no part in it yet at the
# panel vote), whether they see the complainant, and whether they see panel1's vote while the round is open
# (only panel1, its author).
ROLES = {  # user: (role, sees the case, sees the complainant)
    "clerk": ("intake", True, True), "officer1": ("officer", True, True), "head": ("head", True, True),
    "panel1": ("panel", True, False), "panel2": ("panel", True, False), "legal": ("legal", False, False),
    "publisher": ("publisher", False, False), "auditor": ("auditor", True, False),
}


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, voting=VOTING)


@pytest.fixture
def voting(model, template_result):
    return template_result


@pytest.fixture
def voted(voting, svc, clock):
    """The case with panel1's vote cast and the round still open (two members to go)."""
    case = voting.case
    task = next(t for t in list_tasks(svc, user_id="panel1", case=case.number) if t.spec_id == "panel_vote")
    complete_task(CompleteTask(task_id=task.id, user_id="panel1", data={"vote": "penalty", "opinion": OPINION},
                               pin=PIN), svc=svc, clock=clock)
    return case


def _cli(svc, clock, *args: str):
    return CliRunner().invoke(main, list(args), obj={"svc": svc, "clock": clock}, catch_exceptions=False)


@pytest.mark.parametrize("user", sorted(ROLES))
def test_the_page_the_api_and_the_cli_show_each_role_the_same(voted, svc, clock, client, user):
    _role, sees_case, sees_identity = ROLES[user]
    sees_vote = user == "panel1"
    login(client, user)
    if not sees_case:  # refused alike everywhere, in the engine's words
        for path in (f"/cases/{voted.id}", f"/api/cases/{voted.id}"):
            refused = client.get(path)
            assert refused.status_code == 403, path
            assert "未参与本案" in refused.get_data(as_text=True) or "\\u672a\\u53c2" in refused.get_data(as_text=True)
        cli = _cli(svc, clock, "case", "show", str(voted.id), "--user", user)
        assert cli.exit_code == 2 and "take no part in this case" in cli.output
        return
    page = client.get(f"/cases/{voted.id}").get_data(as_text=True)
    api = client.get(f"/api/cases/{voted.id}")
    assert api.status_code == 200
    cli = _cli(svc, clock, "case", "show", str(voted.id), "--user", user, "--json")
    assert cli.exit_code == 0, cli.output
    as_json = json.loads(cli.output)
    assert as_json == api.get_json()  # one read, two edges
    api_text = json.dumps(api.get_json(), ensure_ascii=False)  # Flask escapes non-ASCII in JSON
    for name, text in (("page", page), ("api", api_text), ("cli", cli.output)):
        assert (SECRET_NAME in text) is sees_identity, (user, name)
        assert (SECRET_PHONE in text) is sees_identity, (user, name)
        assert (OPINION in text) is sees_vote, (user, name)
    assert as_json["identity_shown"] is sees_identity


def test_the_administrator_reads_no_case_anywhere(voted, svc, clock, client):
    login(client, "admin")
    assert client.get(f"/cases/{voted.id}").status_code == 403
    assert client.get(f"/api/cases/{voted.id}").status_code == 403
    refused = _cli(svc, clock, "case", "show", str(voted.id), "--user", "admin")
    assert refused.exit_code == 2 and "may not read cases" in refused.output


def test_the_cli_without_a_user_reads_as_an_auditor(voted, svc, clock):
    shown = _cli(svc, clock, "case", "show", str(voted.id), "--json").output
    assert json.loads(shown) == json.loads(_cli(svc, clock, "case", "show", str(voted.id), "--user", "auditor",
                                                "--json").output)
    assert SECRET_NAME not in shown and OPINION not in shown
    listed = _cli(svc, clock, "task", "list", "--case", str(voted.id), "--all", "--json")
    assert listed.exit_code == 0 and "panel_vote" in listed.output
    assert OPINION not in listed.output  # a list carries no step's data: `task show --user` reads it


def test_a_sealed_vote_is_hidden_on_its_task_everywhere_but_from_its_author(voted, svc, clock, client):
    task = next(t for t in list_tasks(svc, case=voted.number, include_done=True)
                if t.spec_id == "panel_vote" and t.completed_by == "panel1")
    for user, sees in (("panel1", True), ("panel2", False), ("head", False)):
        client.get("/logout")
        login(client, user)
        assert (OPINION in client.get(f"/tasks/{task.id}").get_data(as_text=True)) is sees, user
        assert (OPINION in json.dumps(client.get(f"/api/tasks/{task.id}").get_json(), ensure_ascii=False)) is sees, user
        assert (OPINION in _cli(svc, clock, "task", "show", task.id, "--user", user).output) is sees, user


def test_a_member_who_voted_owes_no_second_vote(voted, svc):
    other = next(t for t in list_tasks(svc, case=voted.number) if t.spec_id == "panel_vote" and t.assignee == "panel2")
    assert not task_for_viewer(svc, other.id, "panel1").may_act
    assert task_for_viewer(svc, other.id, "panel2").may_act
    assert case_for_viewer(svc, voted.id, "panel1").owed_vote is None
    assert case_for_viewer(svc, voted.id, "panel2").owed_vote == other.id


# --- a task offered by name ------------------------------------------------------------------------------
def _check(svc, played):
    listed = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "preliminary_check")
    return show_task(svc, listed.id)  # with the people it is offered to


def test_officer3_with_no_part_in_the_case_reads_nothing_of_a_task_offered_to_others(model, svc, clock, client,
                                                                                      at_preliminary_check):
    """Issue 13 item 1: a task offered by name to officer1 and officer2 showed officer3 the whole case. He has no
    part in it and nothing of it is offered to his lane: 403 everywhere, and the engine refuses him the task."""
    task = _check(svc, at_preliminary_check)
    assert task.candidates == ("officer1", "officer2")
    login(client, "officer3")
    response = client.get(f"/tasks/{task.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "未参与本案" in html and SECRET_NAME not in html and task.case_number not in html
    api = client.get(f"/api/tasks/{task.id}")
    assert api.status_code == 403 and "take no part in this case" in api.get_json()["error"]
    shown = _cli(svc, clock, "task", "show", task.id, "--user", "officer3", "--json")
    assert shown.exit_code == 2 and "take no part in this case" in shown.output
    with pytest.raises(Forbidden) as refused:
        complete_task(CompleteTask(task_id=task.id, user_id="officer3", data={}, pin=PIN), svc=svc, clock=clock)
    assert refused.value.message == duties.refusal_to_act(
        duties.Person.of("officer3", ["officer"]), duties.TaskFacts(role="officer", restricted=True)).message
    assert post(client, f"/tasks/{task.id}/claim", token_from="/tasks").status_code == 403


def test_an_officer_it_is_offered_to_gets_the_form(model, svc, client, at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    login(client, "officer2")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="pin"' in html and "task-form" in html
    assert task_for_viewer(svc, task.id, "officer2").may_claim


def test_a_head_is_offered_the_assignees_the_engine_computes(model, svc, clock, client, at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    view = task_for_viewer(svc, task.id, "head")
    assert [u.id for u in view.assignees] == ["officer1", "officer2"]  # officer3 holds the role, but is not named
    login(client, "head")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    offered = [line for line in html.splitlines() if "<option value=" in line]
    assert [u for u in ("officer1", "officer2", "officer3") if any(f'value="{u}"' in o for o in offered)] == \
        ["officer1", "officer2"]
    assert task_for_viewer(svc, task.id, "officer1").assignees == ()  # only a head assigns
    shown = json.loads(_cli(svc, clock, "task", "show", task.id, "--user", "head", "--json").output)
    assert shown["eligible_assignees"] == ["officer1", "officer2"]
    with svc.uow.read() as session:  # the engine's own check agrees with the list it offers
        from engine.db.tables import UserRow

        officer3 = person_of(session.get_one(UserRow, "officer3"))
    facts = duties.TaskFacts(role="officer", restricted=True, candidates=frozenset(task.candidates))
    assert duties.refusal_to_be_assigned(officer3, facts) is not None
