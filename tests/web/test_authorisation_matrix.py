"""The authorisation matrix (issue 13, Tests): every route of the app × every demo role × a case the user takes
part in and one they do not — the status, and whether the complainant's identity (a distinctive name, phone
and address per case) appears exactly where allowed: pages, /api, 文书 downloads, the dossier, the CLI.

The three cases are played once per session (a database template); each test function walks a whole part
of the matrix and reports every cell that is wrong at once.

- FULL: a penalty case played to its end — every role of the process took part in it.
- EARLY: accepted, waiting at the preliminary check offered by name to officer1 and officer2.
- OTHERS: registered by another clerk (clerk2), waiting for the head's acceptance review.
- DISTRICT: registered by the clerk of district "da" under the home city (issue 16: agencies), waiting for
  the acceptance review of da's heads. Its sibling district "db" has a head and a supervisor of its own; the
  city has a supervisor (督查人员) and the home auditor, who read the whole tree; da has an auditor of its own.

What each (user, case) may see is stated below by hand (ACCESS), not computed by the rules under test.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from engine.agency_seals import issue_agency_seal
from engine.cli import main
from engine.db.tables import AgencyRow, UserRow
from engine.demo import MutableClock, play
from engine.spiff.driving import intake_data
from engine.usecases.cases import open_case, show_case
from engine.usecases.documents import list_documents
from engine.usecases.tasks import list_tasks
from engine.usecases.users import add_user
from engine.values import AddUser, OpenCase
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import WEB_MODEL
from tests.web.webcases import START, scenario
from tests.web.webhelpers import PASSWORD, PIN, login

IDENTITIES = {  # case: (name, phone, address) of its complainant — found nowhere else
    "FULL": ("欧阳秘甲", "13911110001", "呈州市甲秘巷11号"),
    "EARLY": ("司马秘乙", "13922220002", "呈州市乙秘巷22号"),
    "OTHERS": ("上官秘丙", "13933330003", "呈州市丙秘巷33号"),
    "DISTRICT": ("令狐秘丁", "13944440004", "呈州市甲区丁秘巷44号"),
}
NONE, REDACTED, IDENTITY = "none", "redacted", "identity"
# Who may see what of each case: none (403), the case without the complainant, or with them.
ACCESS: dict[str, dict[str, str]] = {
    #             FULL       EARLY      OTHERS    DISTRICT (agency da)
    "clerk":     {"FULL": IDENTITY, "EARLY": IDENTITY, "OTHERS": NONE, "DISTRICT": NONE},  # registered FULL, EARLY
    "officer1":  {"FULL": IDENTITY, "EARLY": IDENTITY, "OTHERS": NONE, "DISTRICT": NONE},  # handled FULL; on EARLY
    "officer3":  {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},  # no part in any case
    "head":      {"FULL": IDENTITY, "EARLY": IDENTITY, "OTHERS": REDACTED,  # OTHERS: offered its review
                  "DISTRICT": NONE},  # a head of the city: the district's cases are its heads' and supervisors'
    "head2":     {"FULL": REDACTED, "EARLY": REDACTED, "OTHERS": REDACTED, "DISTRICT": NONE},  # supervises
    "panel1":    {"FULL": REDACTED, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},
    "legal":     {"FULL": REDACTED, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},
    "publisher": {"FULL": REDACTED, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},
    "auditor":   {"FULL": REDACTED, "EARLY": REDACTED, "OTHERS": REDACTED, "DISTRICT": REDACTED},  # the root's
    "admin":     {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},
    # district da: its clerk registered DISTRICT; its head is offered DISTRICT's review; its auditor audits it
    "clerk-a":    {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": IDENTITY},
    "head-a":     {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": REDACTED},
    "auditor-a":  {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": REDACTED},
    # district db, da's sibling: nothing of da's, nothing of the city's
    "head-b":     {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},
    "supervisor-b": {"FULL": NONE, "EARLY": NONE, "OTHERS": NONE, "DISTRICT": NONE},
    # the city's supervisor: every case of the city and of the districts under it, never the complainant
    "supervisor": {"FULL": REDACTED, "EARLY": REDACTED, "OTHERS": REDACTED, "DISTRICT": REDACTED},
}
USERS = tuple(ACCESS)
ROLES = {"clerk": {"intake"}, "officer1": {"officer"}, "officer3": {"officer"}, "head": {"head"},
         "head2": {"head"}, "panel1": {"panel"}, "legal": {"legal"}, "publisher": {"publisher"},
         "auditor": {"auditor"}, "admin": {"admin"}, "clerk-a": {"intake"}, "head-a": {"head"},
         "auditor-a": {"auditor"}, "head-b": {"head"}, "supervisor-b": {"supervisor"}, "supervisor": {"supervisor"}}
# The agencies (issue 16): the home city's users and cases unless named here.
DISTRICTS = {"da": ("呈州市甲区卫生健康局", "甲区卫"), "db": ("呈州市乙区卫生健康局", "乙区卫")}
USER_AGENCY = {"clerk-a": "da", "head-a": "da", "auditor-a": "da", "head-b": "db", "supervisor-b": "db"}
CASE_AGENCY = {"DISTRICT": "da"}
NEW_USERS = ("clerk-a", "head-a", "auditor-a", "head-b", "supervisor-b", "supervisor")
OTHER_AGENCY = "不属于办理本案的单位"  # the refusal of a case of another agency (engine.rules.duties)


def _agency(user: str, home: str) -> str:
    return USER_AGENCY.get(user, home)


@dataclass(frozen=True)
class MatrixCase:
    key: str
    id: int
    number: str
    task_id: str  # a task of it: completed (FULL) or open
    task_role: str
    identity_doc: int  # the 投诉举报登记表
    plain_doc: int | None  # a 文书 naming nobody but the party


def _intake(key: str) -> dict[str, Any]:
    name, phone, address = IDENTITIES[key]
    return {"complainant": {"anonymous": False, "name": name, "phone": phone, "address": address},
            "content": "美容店无证营业，请查处。"}


def _describe(svc, key: str, case_id: int, spec: str) -> MatrixCase:
    case = show_case(svc, case_id)
    task = next(t for t in list_tasks(svc, case=case.number, include_done=True) if t.spec_id == spec)
    docs = {d.kind: d.id for d in list_documents(svc, case_id)}
    return MatrixCase(key, case_id, case.number, task.id, task.role, docs["complaint_registration"],
                      docs.get("case_acceptance"))


def _districts(svc) -> None:
    """The home city's two districts (rows written directly: the agency use cases are not under test here),
    and the users of the districts and the city's supervisor."""
    home = svc.settings.agency.code
    with svc.uow() as work:
        for code, (name, short) in DISTRICTS.items():
            work.session.add(AgencyRow(code=code, name=name, short=short, parent_code=home, level="county",
                                       case_number_prefix=f"{short}投", penalty_number_prefix=f"{short}罚",
                                       review_agency="", court="", settings={}, active=True, created_at=START))
        work.commit()
    for code, (name, _short) in DISTRICTS.items():  # what `agency add` issues each: its seal (its 文书, dossier, bundle)
        issue_agency_seal(svc, code, name, now=START)
    for user in NEW_USERS:
        add_user(AddUser(user_id=user, name=f"{user}姓名", password=PASSWORD, roles=sorted(ROLES[user]), pin=PIN),
                 svc=svc, clock=MutableClock(START))
    with svc.uow() as work:
        for user, code in USER_AGENCY.items():
            work.session.execute(update(UserRow).where(UserRow.id == user).values(agency_code=code))
        work.commit()


def _opened_by(svc, clerk: str, key: str):
    return open_case(OpenCase(user_id=clerk, data=intake_data({**scenario().intake, **_intake(key)}, now=START),
                              pin=PIN), svc=svc, clock=MutableClock(START))


def _build(svc) -> dict[str, MatrixCase]:
    full = play(svc, scenario(intake=_intake("FULL")), start=START, pin=PIN)
    early = play(svc, scenario(intake=_intake("EARLY")), start=START, stop_before=1, pin=PIN)
    add_user(AddUser(user_id="clerk2", name="钱受理", password=PASSWORD, roles=["intake"], pin=PIN), svc=svc,
             clock=MutableClock(START))
    others = _opened_by(svc, "clerk2", "OTHERS")
    _districts(svc)
    district = _opened_by(svc, "clerk-a", "DISTRICT")
    return {"FULL": _describe(svc, "FULL", full.case.id, "acceptance_review"),
            "EARLY": _describe(svc, "EARLY", early.case.id, "preliminary_check"),
            "OTHERS": _describe(svc, "OTHERS", others.id, "acceptance_review"),
            "DISTRICT": _describe(svc, "DISTRICT", district.id, "acceptance_review")}


MATRIX = WEB_MODEL.then("authorisation matrix: four cases in two agencies", _build)


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, cases=MATRIX)


@pytest.fixture
def cases(model, template_result) -> dict[str, MatrixCase]:
    return template_result


def _shown(text: str, key: str) -> dict[str, bool]:
    return {value: value in text for value in IDENTITIES[key]}


class Cells:
    """The matrix's wrong cells, collected so one run reports all of them."""

    def __init__(self) -> None:
        self.wrong: list[str] = []

    def expect(self, ok: bool, where: str) -> None:
        if not ok:
            self.wrong.append(where)

    def identity(self, text: str, key: str, *, allowed: bool, required: bool, where: str) -> None:
        """The identity of case `key` in `text`: never unless allowed; all of it where the view must show it.
        No other case's complainant ever."""
        shown = _shown(text, key)
        if not allowed:
            self.expect(not any(shown.values()), f"{where}: identity leaked {shown}")
        elif required:
            self.expect(all(shown.values()), f"{where}: identity missing {shown}")
        for other in IDENTITIES:
            if other != key:
                self.expect(not any(_shown(text, other).values()), f"{where}: {other}'s identity shown")

    def check(self) -> None:
        assert not self.wrong, "\n".join(self.wrong)


def _text(response) -> str:
    if response.mimetype == "application/json":
        return json.dumps(response.get_json(), ensure_ascii=False)
    if response.mimetype == "application/pdf":
        return _pdf_text(response.get_data())
    # Any other body searched as UTF-8 text; a binary one (the agency root certificate in DER) may hold bytes that
    # are not UTF-8, and a name in it would still be found.
    return response.get_data().decode("utf-8", errors="replace")


def _pdf_text(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout


def _as(client, user: str) -> None:
    """Log in as `user` afresh (the previous user's session dropped)."""
    with client.session_transaction() as session:
        session.clear()
    login(client, user)


def _cells(client, cases: dict[str, MatrixCase]):
    """Every (user, case) of the matrix, logged in as the user: (user, key, case, access, where)."""
    for user in USERS:
        _as(client, user)
        for key, case in cases.items():
            yield user, key, case, ACCESS[user][key], f"{user} × {key}"


# --- routes that name a case -------------------------------------------------------------------------------
CASE_ROUTES = {"cases.case_page", "api.case", "panel.case_round", "public.detail", "public.decision_pdf"}
DELIBERATION_ROLES = {"panel", "head", "officer", "legal"}


def _reason(user: str, key: str, home: str) -> str:
    """The words a refusal to read case `key` gives `user`: of a case of another agency, that; else that they
    take no part in it."""
    return OTHER_AGENCY if _agency(user, home) != CASE_AGENCY.get(key, home) else "未参与本案"


def test_case_pages_api_and_deliberation(cases, client, svc):
    cells = Cells()
    home = svc.settings.agency.code
    for user, key, case, access, where in _cells(client, cases):
        for path in (f"/cases/{case.id}", f"/api/cases/{case.id}"):
            response = client.get(path)
            text = _text(response)
            cells.expect(response.status_code == (403 if access == NONE else 200),
                         f"{where} {path}: {response.status_code}")
            if access == NONE and ROLES[user] != {"admin"}:
                cells.expect(_reason(user, key, home) in text, f"{where} {path}: the reason not given")
            cells.identity(text, key, allowed=access == IDENTITY, required=True, where=f"{where} {path}")
        response = client.get(f"/deliberation/{case.id}")
        may = access != NONE and bool(ROLES[user] & DELIBERATION_ROLES)
        cells.expect(response.status_code == (200 if may else 403), f"{where} deliberation: {response.status_code}")
        cells.identity(_text(response), key, allowed=access == IDENTITY, required=False, where=f"{where} delib")
        for path in (f"/public/{case.id}", f"/public/{case.id}/decision.pdf"):  # public: nobody's identity, ever
            public = client.get(path)
            cells.expect(public.status_code in (200, 404), f"{where} {path}: {public.status_code}")
            cells.identity(_text(public), key, allowed=False, required=False, where=f"{where} {path}")
    cells.check()


# --- routes that name a task --------------------------------------------------------------------------------
TASK_ROUTES = {"tasks.task_page_view", "api.task", "tasks.complete", "tasks.claim", "tasks.unclaim", "tasks.assign"}
OVERSIGHT = {"head", "auditor", "supervisor"}


def test_task_pages_and_api_and_no_action_on_a_case_one_cannot_see(cases, client):
    cells = Cells()
    for user, key, case, access, where in _cells(client, cases):
        where = f"{where} task {case.task_role}"
        reads = access != NONE and bool(ROLES[user] & ({case.task_role} | OVERSIGHT))
        for path in (f"/tasks/{case.task_id}", f"/api/tasks/{case.task_id}"):
            response = client.get(path)
            cells.expect(response.status_code == (200 if reads else 403), f"{where} {path}: {response.status_code}")
            cells.identity(_text(response), key, allowed=access == IDENTITY,
                           required=reads and path.startswith("/tasks") and access == IDENTITY,
                           where=f"{where} {path}")
        if access == NONE:  # nothing of a case one may not see can be done either (no state changes)
            token = _csrf(client)
            for action in ("", "/claim", "/unclaim", "/assign"):
                response = client.post(f"/tasks/{case.task_id}{action}",
                                       data={"csrf_token": token, "assignee": "officer1", "pin": PIN})
                cells.expect(response.status_code in (403, 409), f"{where} POST {action}: {response.status_code}")
    cells.check()


def _csrf(client) -> str:
    from tests.web.webhelpers import TOKEN

    for path in ("/tasks", "/cases", "/audit", "/admin/users", "/"):
        match = TOKEN.search(client.get(path).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError("no page with a CSRF token")


# --- 文书 and the dossier ------------------------------------------------------------------------------------
DOCUMENT_ROUTES = {"cases.document", "cases.dossier"}


def test_documents_and_the_dossier(cases, client):
    cells = Cells()
    dossier_read: set[str] = set()
    for _user, key, case, access, where in _cells(client, cases):
        identity_doc = client.get(f"/cases/{case.id}/documents/{case.identity_doc}")
        cells.expect(identity_doc.status_code == (200 if access == IDENTITY else 403),
                     f"{where} 登记表: {identity_doc.status_code}")
        if identity_doc.status_code == 200:
            cells.identity(_text(identity_doc), key, allowed=True, required=True, where=f"{where} 登记表")
        if case.plain_doc is not None:
            plain = client.get(f"/cases/{case.id}/documents/{case.plain_doc}")
            cells.expect(plain.status_code == (403 if access == NONE else 200), f"{where} 受理: {plain.status_code}")
            if plain.status_code == 200:
                cells.identity(_text(plain), key, allowed=False, required=False, where=f"{where} 受理")
        if access != IDENTITY or key not in dossier_read:
            # Built once per case (WeasyPrint takes seconds); every refusal is checked, it costs nothing.
            dossier = client.get(f"/cases/{case.id}/dossier.pdf")
            cells.expect(dossier.status_code == (200 if access == IDENTITY else 403),
                         f"{where} dossier: {dossier.status_code}")
            if dossier.status_code == 200:
                dossier_read.add(key)
                cells.identity(_text(dossier), key, allowed=True, required=True, where=f"{where} dossier")
    cells.check()


# --- the lists and every page that names no case -----------------------------------------------------------
def test_lists_show_only_the_cases_one_may_see_and_no_page_names_a_complainant(cases, client, app):
    cells = Cells()
    plain_routes = [r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments
                    and r.endpoint not in NOT_WALKED]
    for user in USERS:
        _as(client, user)
        for path in plain_routes:
            response = client.get(path)
            cells.expect(response.status_code in (200, 302, 403), f"{user} {path}: {response.status_code}")
            for key in cases:
                cells.identity(_text(response), key, allowed=False, required=False, where=f"{user} {path}")
        listed_page = client.get("/cases").get_data(as_text=True)
        listed_api = client.get("/api/cases")
        numbers = {c["number"] for c in listed_api.get_json()["cases"]} if listed_api.status_code == 200 else set()
        for key, case in cases.items():
            sees = ACCESS[user][key] != NONE
            cells.expect((case.number in listed_page) is sees, f"{user} /cases lists {key}: {not sees}")
            cells.expect((case.number in numbers) is sees, f"{user} /api/cases lists {key}: {not sees}")
    cells.check()


# --- the CLI reads as the user may ------------------------------------------------------------------------
def test_the_cli_case_show_and_case_list_task_show_and_evidence_list(cases, svc, clock):
    cells = Cells()
    for user in USERS:
        listed = CliRunner().invoke(main, ["case", "list", "--user", user, "--json"], obj={"svc": svc, "clock": clock})
        numbers = {c["number"] for c in json.loads(listed.output)} if listed.exit_code == 0 else set()
        for key, case in cases.items():
            access = ACCESS[user][key]
            where = f"CLI {user} × {key}"
            shown = CliRunner().invoke(main, ["case", "show", str(case.id), "--user", user, "--json"],
                                       obj={"svc": svc, "clock": clock})
            cells.expect(shown.exit_code == (2 if access == NONE else 0), f"{where}: exit {shown.exit_code}")
            cells.identity(shown.output, key, allowed=access == IDENTITY, required=True, where=where)
            cells.expect((case.number in numbers) is (access != NONE), f"{where}: case list")
            reads = access != NONE and bool(ROLES[user] & ({case.task_role} | OVERSIGHT))
            task = CliRunner().invoke(main, ["task", "show", case.task_id, "--user", user, "--json"],
                                      obj={"svc": svc, "clock": clock})
            cells.expect(task.exit_code == (0 if reads else 2), f"{where} task show: exit {task.exit_code}")
            cells.identity(task.output, key, allowed=access == IDENTITY, required=False, where=f"{where} task show")
            files = CliRunner().invoke(main, ["evidence", "list", str(case.id), "--user", user, "--json"],
                                       obj={"svc": svc, "clock": clock})
            cells.expect(files.exit_code == (2 if access == NONE else 0), f"{where} evidence list: exit {files.exit_code}")
    cells.check()


# --- the evidence bundle ------------------------------------------------------------------------------------
BUNDLE_ROUTES = {"audit.export"}


def _zip_text(data: bytes) -> str:
    """Every member of a bundle as text (PDFs through pdftotext), for the identity search."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(_pdf_text(zf.read(name)) if name.endswith(".pdf") else zf.read(name).decode("utf-8", "replace")
                         for name in zf.namelist())


def test_the_evidence_bundle_carries_the_complainant_only_for_those_entitled(cases, client, svc, clock, tmp_path):
    """The auditor's bundle (web) holds the complainant's identity as salted digests only; a disclosing bundle
    (CLI `export --disclose --by USER`) is made only for a user who may see the identity, and carries it."""
    cells = Cells()
    for user, key, case, access, where in _cells(client, cases):
        response = client.get(f"/audit/cases/{case.id}/bundle")
        audits = "auditor" in ROLES[user] and access != NONE  # an auditor of the case's agency or one above it
        cells.expect(response.status_code == (200 if audits else 403), f"{where} bundle: {response.status_code}")
        if response.status_code == 200:
            cells.identity(_zip_text(response.get_data()), key, allowed=False, required=False, where=f"{where} bundle")
    for key, case in cases.items():
        for user in USERS:
            out = tmp_path / f"{key}-{user}.zip"
            made = CliRunner().invoke(main, ["export", str(case.id), "--out", str(out), "--disclose", "--by", user],
                                      obj={"svc": svc, "clock": clock})
            entitled = ACCESS[user][key] == IDENTITY
            where = f"CLI export --disclose --by {user} × {key}"
            cells.expect(made.exit_code == (0 if entitled else 2), f"{where}: exit {made.exit_code}")
            if made.exit_code == 0:
                cells.identity(_zip_text(out.read_bytes()), key, allowed=True, required=True, where=where)
    cells.check()


# --- every route is in the matrix ----------------------------------------------------------------------------
# Routes that name no case and hold no case data, or are not reached by a logged-in GET: not walked.
NOT_WALKED = {
    "auth.logout": "POST; ends the session the walk needs",
    "static": "files",
    "switch_language": "sets a cookie, redirects",
}
# Checked by their own tests (tests/web/test_audit.py): the auditor's verification needs no case data shown.
CHECKED_ELSEWHERE = {"audit.bundle": "POST: an uploaded bundle checked (no case of the database)",
                     "audit.verify": "POST: verifies a case's records (auditor)",
                     # every role × a case's attached and staged files: tests/web/test_evidence_pages.py
                     "evidence.content": "an evidence file's bytes", "api.evidence": "an evidence file",
                     "api.case_evidence": "a case's evidence files",
                     # one file as the page's list draws it: the same need-to-know as evidence.content
                     # (test_evidence_pages.py; a complaint's staged material: test_intake_files.py)
                     "evidence.item": "an evidence file's list item",
                     # a party's drawn signature by its digest: served through evidence.content, whose check of
                     # the viewer is the one above (web/evidence.py `drawn`)
                     "evidence.drawn": "a drawn signature's bytes",
                     # a person's own notices only: another's is 404 / unchanged, no CSRF token 400
                     # (tests/web/test_inbox.py)
                     "inbox.read": "marking one's notices read", "inbox.open_notice": "opening one's notice",
                     # 挂牌督办: only a supervisor (others 403), only a case of an agency below theirs (the engine:
                     # tests/integration/test_supervision.py), CSRF and PIN (tests/web/test_supervision_pages.py)
                     "supervision.flag": "flagging a case for supervision",
                     # tests/web/test_uploads.py test_who_may_upload and the multipart tests: a stranger to the
                     # case 403/404 at creation, someone else's upload 404, no CSRF token 400, not logged in 401
                     **{f"uploads.{view}": "evidence upload (tests/web/test_uploads.py)" for view in (
                         "options", "create", "status", "patch", "terminate", "post_files", "api_post_files",
                         "remove")},
                     # what the upload receiver asks for a PATCH it holds, with the client's cookie and token: the
                     # same checks as the app's PATCH (tests/web/test_receiver.py: no token 400, a stranger 404)
                     "uploads.receive": "may this session append (the receiver's question)",
                     "uploads.finish": "stage the upload whose last byte the receiver wrote",
                     # heads only, every other role 403 (tests/web/test_team_pages.py); they name a task's step,
                     # case number and holders, never the complainant
                     "team.reassign": "POST: a head's batch hand-over", "team.urge": "a head's 督办 of a task",
                     # a draft is its author's alone, saved only while they may act on the task (engine save_draft:
                     # check_may_act); an officer not on the step 403 and shown nothing (tests/web/test_drafts.py,
                     # tests/integration/test_drafts.py); the no-JavaScript buttons call the same use cases
                     **{f"drafts.{view}": "a task's or registration page's draft" for view in (
                         "task_draft", "put_task_draft", "delete_task_draft", "put_intake_draft", "delete_intake_draft")},
                     "tasks.save_task_draft": "POST: the draft button", "tasks.discard_task_draft": "POST: discard",
                     "cases.save_intake_draft": "POST: the registration page's draft (clerks only)",
                     "cases.discard_intake_draft": "POST: discard it"}
# State-changing forms that name no case: their own tests (admin, auth, cases) cover them.
FORMS = {"admin.calendar", "admin.calendar_schedule", "admin.upload_definition", "admin.create_user",
         "admin.user", "admin.set_active", "admin.set_enforcement_certificate", "admin.rekey", "admin.revoke",
         "admin.unblock_pin", "admin.end_sessions",
         # the agency tree's pages, administrators only (tests/web/test_agency_pages.py); each admin page and form
         # of an administrator of another agency (a district's, the sibling's): tests/web/test_admin_scope.py
         "agencies.create", "agencies.agency", "agencies.set_setting", "agencies.set_areas", "agencies.deactivate",
         "admin.set_agency",
         "cases.new_case", "auth.login", "auth.change_password"}


def test_every_route_of_the_app_has_its_place_in_the_matrix(app):
    placed = CASE_ROUTES | TASK_ROUTES | DOCUMENT_ROUTES | set(NOT_WALKED) | set(CHECKED_ELSEWHERE) | BUNDLE_ROUTES | FORMS
    unplaced = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in placed:
            continue
        if not rule.arguments and "GET" in rule.methods:
            continue  # walked by test_lists_show_only_the_cases_one_may_see_and_no_page_names_a_complainant
        unplaced.append(f"{rule.rule} {sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.endpoint}")
    assert not unplaced, "routes missing from the authorisation matrix:\n" + "\n".join(unplaced)


# --- the supervisor reads, never acts (issue 16) -------------------------------------------------------------
def _kpi(html: str) -> int:
    """The dashboard's count of all cases (its third figure: open cases, overdue steps, all cases)."""
    return int(re.findall(r'<span class="kpi-n">(\d+)</span>', html)[2])


def test_a_supervisor_reads_the_subtree_filters_it_by_agency_and_acts_on_nothing(cases, client):
    _as(client, "supervisor")
    listed = client.get("/cases").get_data(as_text=True)
    assert 'name="agency"' in listed and DISTRICTS["da"][0] in listed and DISTRICTS["db"][0] in listed
    district = client.get("/cases?agency=da").get_data(as_text=True)
    assert [k for k, c in cases.items() if c.number in district] == ["DISTRICT"]
    sibling = client.get("/cases?agency=db").get_data(as_text=True)  # db has no case
    assert not [k for k, c in cases.items() if c.number in sibling]
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and _kpi(dashboard.get_data(as_text=True)) == len(cases)
    assert 'name="agency"' in dashboard.get_data(as_text=True)
    assert _kpi(client.get("/dashboard?agency=da").get_data(as_text=True)) == 1
    token = _csrf(client)
    for key, case in cases.items():
        for action in ("", "/claim", "/assign"):
            response = client.post(f"/tasks/{case.task_id}{action}",
                                   data={"csrf_token": token, "assignee": "head", "pin": PIN})
            assert response.status_code in (403, 409), f"supervisor POST {action} on {key}: {response.status_code}"
    assert client.get("/team").status_code == 403
    _as(client, "head-a")  # a district's head: their own agency only, no filter to choose
    assert 'name="agency"' not in client.get("/cases").get_data(as_text=True)
    own = client.get("/dashboard").get_data(as_text=True)
    assert _kpi(own) == 1 and 'name="agency"' not in own
