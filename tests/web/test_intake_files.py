"""Complaint material on the registration page (/cases/new, issue 14): files posted with the form without
JavaScript (or staged by the widget under the page's key) are listed in the signed registration and become the
case's; a refused file or registration keeps what was typed and what was staged; only the clerk who staged a
file sees it or takes it back; who reads the case without the complainant does not see the material."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from engine.db.tables import CaseRow
from engine.demo_files import demo_pdf, demo_photo
from engine.journal import EVIDENCE_KEY
from engine.usecases.audit import verify_cases
from engine.usecases.evidence import intake_files, list_evidence
from engine.usecases.users import add_user
from engine.values import AddUser
from tests.conftest import at
from tests.integration.test_signed_records import _opened_files, _records
from tests.web.webhelpers import PASSWORD, PIN, login, post

KEY = re.compile(r'name="evidence_key" value="([^"]+)"')
FORM = {"channel": "letter", "received_at": "2026-09-15T10:30", "complainant.anonymous": "",
        "complainant.name": "王五", "complainant.phone": "13700000000", "respondent.name": "某某游泳馆",
        "respondent.kind": "organisation", "respondent.address": "呈州市中山路3号",
        "violation_type": "public_place_unlicensed", "content": "游泳馆无证经营，附照片和来信。", "pin": PIN}


def _page_key(client) -> str:
    page = client.get("/cases/new").get_data(as_text=True)
    match = KEY.search(page)
    assert match, "no evidence key on /cases/new"
    assert 'enctype="multipart/form-data"' in page and 'data-intake="' in page
    return match.group(1)


def _file(path) -> tuple[io.BytesIO, str]:
    return io.BytesIO(path.read_bytes()), path.name


def _register(client, key, files=(), **changes):
    data = {**FORM, **changes, "evidence_key": key}
    if files:
        data["files"] = [_file(p) for p in files]
    return post(client, "/cases/new", data, token_from="/cases/new", content_type="multipart/form-data")


def _cases(svc) -> int:
    with svc.uow.read() as session:
        return session.scalar(select(func.count()).select_from(CaseRow)) or 0


@pytest.fixture
def files(tmp_path):
    photo = demo_photo(tmp_path / "现场照片.jpg", taken=at("2026-09-14 18:00"), lat=31.2, lon=121.4)
    letter = demo_pdf(tmp_path / "举报信.pdf")
    program = tmp_path / "看这里.jpg"
    program.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(500))
    return photo, letter, program


def test_files_posted_with_the_registration_are_signed_into_it(model, client, svc, files):
    photo, letter, _ = files
    login(client, "clerk")
    key = _page_key(client)
    response = _register(client, key, files=(photo, letter))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    [record] = [r.record for r in _records(svc, case_id)]
    assert [(e["media_type"], e["added_by"]) for e in record.form_data[EVIDENCE_KEY]] == \
        [("image/jpeg", "clerk"), ("application/pdf", "clerk")]  # names sealed: they may name the complainant
    assert [e["name"] for e in _opened_files(svc, case_id)] == ["现场照片.jpg", "举报信.pdf"]
    assert [(f.name, f.state, f.seq) for f in list_evidence(svc, case_id, "clerk")] == \
        [("现场照片.jpg", "attached", 1), ("举报信.pdf", "attached", 1)]
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "现场照片.jpg" in page and "举报信.pdf" in page and "2 份" in page  # the flash counts them
    [report] = verify_cases(svc, [str(case_id)], clock=lambda: at("2026-09-30 10:00"), rehash=True)
    assert report.ok, report.to_text()
    # The auditor reads the case, not the complainant: nor the material handed in with the complaint.
    login(client, "auditor")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "某某游泳馆" in page and "现场照片.jpg" not in page and "王五" not in page
    for f in list_evidence(svc, case_id, "clerk"):
        assert client.get(f"/evidence/{f.id}").status_code == 404
        assert client.get(f"/api/evidence/{f.id}").status_code == 404


def test_a_refused_file_registers_nothing_and_keeps_the_form_and_the_accepted_file(model, client, svc, files):
    photo, _, program = files
    login(client, "clerk")
    key = _page_key(client)
    before = _cases(svc)
    response = _register(client, key, files=(photo, program))
    html = response.get_data(as_text=True)
    assert response.status_code == 415, html[:2000]
    assert _cases(svc) == before
    assert "看这里.jpg" in html and "案件未登记" in html and "某某游泳馆" in html  # what was typed is kept
    assert f'value="{key}"' in html and "现场照片.jpg" in html  # the accepted file waits, staged on this page
    [staged] = intake_files(svc, "clerk", key)
    assert staged.name == "现场照片.jpg"
    done = _register(client, key)  # sent again without the program: the staged photo goes with it
    assert done.status_code == 302
    case_id = int(done.headers["Location"].rsplit("/", 1)[1])
    assert [f.id for f in list_evidence(svc, case_id, "clerk")] == [staged.id]


def test_a_refused_registration_keeps_its_files_and_the_form_s_button_takes_one_back(model, client, svc, files):
    photo, letter, _ = files
    login(client, "clerk")
    key = _page_key(client)
    response = _register(client, key, files=(photo, letter), content="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "现场照片.jpg" in html and "举报信.pdf" in html
    first, second = intake_files(svc, "clerk", key)
    assert f'name="discard" value="{first.id}"' in html
    removed = _register(client, key, discard=str(first.id), content="")  # the widget's "remove", in the form
    html = removed.get_data(as_text=True)
    assert removed.status_code == 200 and "现场照片.jpg" not in html.split("evidence-list", 1)[1].split("</ul>")[0]
    assert "某某游泳馆" in html and "field-error" not in html  # kept as typed; not checked until it is sent
    assert intake_files(svc, "clerk", key) == (second,)
    done = _register(client, key)
    assert done.status_code == 302
    case_id = int(done.headers["Location"].rsplit("/", 1)[1])
    assert [f.name for f in list_evidence(svc, case_id, "clerk")] == ["举报信.pdf"]


def test_another_user_can_neither_see_nor_take_my_staged_file(model, client, svc, files, clock):
    photo, _, _ = files
    add_user(AddUser(user_id="clerk2", name="钱受理", password=PASSWORD, roles=["intake"], unit="测试科", pin=PIN),
             svc=svc, clock=clock)
    login(client, "clerk")
    key = _page_key(client)
    assert _register(client, key, files=(photo,), content="").status_code == 422
    [mine] = intake_files(svc, "clerk", key)
    for user in ("clerk2", "officer1", "head", "auditor"):
        login(client, user)
        assert client.get(f"/evidence/{mine.id}").status_code == 404, user
        assert client.get(f"/api/evidence/{mine.id}").status_code == 404, user
        assert client.get(f"/evidence/{mine.id}/item").status_code == 404, user
        removed = post(client, f"/cases/new/evidence/{mine.id}/remove", {}, token_from="/tasks")
        assert removed.status_code == 404, user
    login(client, "officer1")
    assert client.get("/cases/new").status_code == 403  # only intake clerks register complaints
    # Another clerk registering with my page's key takes nothing of mine: the files are the clerk's, not the key's.
    login(client, "clerk2")
    taken = _register(client, key, discard=str(mine.id))
    assert taken.status_code == 404 and "证据文件不存在" in taken.get_data(as_text=True)
    done = _register(client, key)
    assert done.status_code == 302
    case_id = int(done.headers["Location"].rsplit("/", 1)[1])
    assert list_evidence(svc, case_id, "clerk2") == ()
    assert intake_files(svc, "clerk", key) == (mine,)
    login(client, "clerk")
    assert client.get(f"/evidence/{mine.id}").status_code == 200  # still the clerk's own


def test_a_forged_page_key_is_refused_with_a_message(model, client, svc):
    login(client, "clerk")
    response = _register(client, "../../etc")
    assert response.status_code == 422 and "材料标识无效" in response.get_data(as_text=True)
