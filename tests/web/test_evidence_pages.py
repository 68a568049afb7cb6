"""Evidence files on the web (issue 14): the case page's section (thumbnail, player, who added what when), the
file's bytes and the JSON API under the case's need-to-know — every role × a file in a signed record and a
file still staged — and 证据登记 picking the case's files instead of retyping digests."""

from __future__ import annotations

import base64
import hashlib

from engine.usecases.tasks import list_tasks
from tests.web.test_authorisation_matrix import _as
from tests.web.webhelpers import PIN, USERS, login, post

# `evidence_case` (tests/web/conftest.py): the default penalty case at 证据登记 with the officer's photo and
# video in 现场检查's signed record and the clerk's PDF staged (tests/web/webcases.py `case_with_evidence`).

# Who may see the case at 证据登记 (by hand, not by the rules under test): who registered it, accepted it and
# handles it, and the auditor; the other lanes take no part yet. Staged files: who handles the case only.
SEES_CASE = {"clerk", "officer1", "officer2", "head", "auditor"}
HANDLES = {"clerk", "officer1", "officer2", "head"}


def test_every_role_gets_a_file_only_as_the_case_s_need_to_know_says(evidence_case, client):
    wrong = []
    for user in USERS:
        _as(client, user)
        for file_id, staged in ((evidence_case.photo, False), (evidence_case.staged, True)):
            expected = (200 if user in (HANDLES if staged else SEES_CASE) else
                        404 if user in SEES_CASE else 403)
            for path in (f"/evidence/{file_id}", f"/api/evidence/{file_id}"):
                got = client.get(path).status_code
                if got != expected:
                    wrong.append(f"{user} {path} (staged={staged}): {got}, expected {expected}")
        listed = client.get(f"/api/cases/{evidence_case.case_id}/evidence")
        if user not in SEES_CASE:
            if listed.status_code != 403:
                wrong.append(f"{user} list: {listed.status_code}")
            continue
        ids = {f["id"] for f in listed.get_json()}
        expected_ids = {evidence_case.photo, evidence_case.video} | ({evidence_case.staged} if user in HANDLES else set())
        if ids != expected_ids:
            wrong.append(f"{user} list: {sorted(ids)}, expected {sorted(expected_ids)}")
        page = client.get(f"/cases/{evidence_case.case_id}").get_data(as_text=True)
        if ("举报材料.pdf" in page) is not (user in HANDLES) or "门口.jpg" not in page:
            wrong.append(f"{user} case page shows the wrong files")
    assert not wrong, "\n".join(wrong)
    assert client.get("/public/evidence/1").status_code == 404  # never public


def test_the_file_is_served_as_stored_with_its_digest_and_never_as_a_page(evidence_case, client):
    login(client, "officer1")
    response = client.get(f"/evidence/{evidence_case.photo}")
    data = response.get_data()
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert hashlib.sha256(data).hexdigest() == evidence_case.photo_sha256
    assert response.headers["Repr-Digest"] == \
        f"sha-256=:{base64.b64encode(bytes.fromhex(evidence_case.photo_sha256)).decode()}:"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "inline" in response.headers.get("Content-Disposition", "inline")
    download = client.get(f"/evidence/{evidence_case.photo}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "%E9%97%A8%E5%8F%A3.jpg" in download.headers["Content-Disposition"]  # 门口.jpg, RFC 5987
    assert client.get(f"/evidence/{evidence_case.staged}").mimetype == "application/pdf"


def test_the_case_page_shows_thumbnails_the_player_and_who_added_what_when(evidence_case, client):
    login(client, "officer2")
    page = client.get(f"/cases/{evidence_case.case_id}").get_data(as_text=True)
    section = page[page.index('id="evidence"'):page.index("</section>", page.index('id="evidence"'))]
    assert f'<img src="/evidence/{evidence_case.photo}"' in section
    assert f'<video controls preload="metadata" src="/evidence/{evidence_case.video}"' in section
    assert f'<object data="/evidence/{evidence_case.staged}" type="application/pdf"' in section
    assert "店门口" in section and "GPS 30.27000, 120.15000" in section
    assert "待签入记录" in section  # the staged PDF
    assert section.count("record-seq") == 2  # the photo and the video, each with its record


def test_evidence_registration_offers_the_case_files_and_signs_the_one_picked(evidence_case, client, svc):
    [task] = [t for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "register_evidence"]
    user = task.assignee or "officer1"
    login(client, user)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    # A choice among the case's files (radios for a few, a list for more: the form's own rule)
    assert f'name="evidence_items.0.file_id" value="{evidence_case.staged}"' in page and "举报材料.pdf" in page
    assert "SHA-256 摘要" not in page  # nothing to retype
    done = post(client, f"/tasks/{task.id}", {
        "evidence_items.0.name": "举报人提供的书面材料", "evidence_items.0.kind": "documentary",
        "evidence_items.0.file_id": str(evidence_case.staged), "evidence_items.0.quantity": "1份",
        "evidence_items.0.source": "举报人", "next_action": "final_report", "pin": PIN})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    listed = client.get(f"/api/cases/{evidence_case.case_id}/evidence").get_json()
    staged = next(f for f in listed if f["id"] == evidence_case.staged)
    assert staged["state"] == "attached" and staged["seq"] is not None
    _as(client, "auditor")  # now in a signed record: the auditor reads it too
    assert client.get(f"/evidence/{evidence_case.staged}").status_code == 200
