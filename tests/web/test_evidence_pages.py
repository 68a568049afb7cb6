"""Evidence files on the web (issue 14): the case page's section (thumbnail, player, who added what when), the
file's bytes and the JSON API under the case's need-to-know — every role × a file in a signed record and a
file still staged — and 证据登记 picking the case's files instead of retyping digests."""

from __future__ import annotations

import base64
import hashlib

from engine.demo_files import demo_photo
from engine.usecases.evidence import stage_evidence
from engine.usecases.tasks import list_tasks
from engine.values import StageEvidence
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
        # The parties' drawn signatures are files of their steps, not evidence: not in the list.
        expected_ids = {evidence_case.photo, evidence_case.video} | (
            {evidence_case.staged} if user in HANDLES else set())
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


def test_a_player_seeks_with_ranges_and_a_cache_revalidates_with_the_digest(evidence_case, client):
    login(client, "officer1")
    whole = client.get(f"/evidence/{evidence_case.photo}").get_data()
    assert client.get(f"/evidence/{evidence_case.photo}").headers["Accept-Ranges"] == "bytes"
    part = client.get(f"/evidence/{evidence_case.photo}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.get_data() == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    tail = client.get(f"/evidence/{evidence_case.photo}", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.get_data() == whole[-50:]
    beyond = client.get(f"/evidence/{evidence_case.photo}", headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416
    cached = client.get(f"/evidence/{evidence_case.photo}",
                        headers={"If-None-Match": f'"{evidence_case.photo_sha256}"'})
    assert cached.status_code == 304 and cached.get_data() == b""


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
    assert "签名.png" not in section
    # The parties' two drawn signatures in a group of their own, each with the record that took it.
    signatures = _section(page, 'id="party-signatures"')
    assert len(evidence_case.signatures) == 2 and signatures.count("record-seq") == 2
    assert "<h2>当事人签名" in signatures and "被检查人签名.png" in signatures and "被询问人签名.png" in signatures
    assert all(f'<img src="/evidence/{i}"' in signatures for i in evidence_case.signatures)
    english = client.get(f"/cases/{evidence_case.case_id}?lang=en").get_data(as_text=True)
    assert "<h2>Party signatures" in _section(english, 'id="party-signatures"')


def test_the_api_and_the_file_itself_say_a_signature_is_one(evidence_case, client):
    """A signature is left out of the case's evidence list, but opened by its id it says what it is."""
    login(client, "officer2")
    listed = client.get(f"/api/cases/{evidence_case.case_id}/evidence").get_json()
    assert {f["purpose"] for f in listed} == {"evidence"}
    for file_id in evidence_case.signatures:
        shown = client.get(f"/api/evidence/{file_id}").get_json()
        assert (shown["purpose"], shown["state"], shown["media_type"]) == ("party_signature", "attached", "image/png")


def test_evidence_registration_offers_the_case_files_and_signs_the_one_picked(evidence_case, client, svc):
    [task] = [t for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "register_evidence"]
    user = task.assignee or "officer1"
    login(client, user)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    # A choice among the case's files (radios for a few, a list for more: the form's own rule)
    assert 'name="evidence_items.0.file_id"' in page and f'value="{evidence_case.staged}"' in page
    assert "举报材料.pdf" in page
    assert "SHA-256 摘要" not in page  # nothing to retype
    # The parties' drawn signatures are not offered as evidence to register (nor typed in by hand)
    assert evidence_case.signatures and "签名.png" not in page
    assert not any(f'value="{i}"' in page for i in evidence_case.signatures)
    fields = {"evidence_items.0.name": "当事人签名", "evidence_items.0.kind": "documentary",
              "evidence_items.0.quantity": "1份", "evidence_items.0.source": "当事人", "next_action": "final_report",
              "pin": PIN}
    for file_id in evidence_case.signatures:
        refused = post(client, f"/tasks/{task.id}", fields | {"evidence_items.0.file_id": str(file_id)})
        assert refused.status_code == 422, refused.get_data(as_text=True)[:2000]
    assert [t.id for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "register_evidence"] == [task.id]
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


def _section(page: str, marker: str) -> str:
    start = page.index(marker)
    return page[start:page.index("</section>", start)]


def test_a_step_s_files_are_one_list_with_previews_and_remove_for_their_uploader(evidence_case, client, svc, clock,
                                                                                tmp_path):
    """The task page lists the files staged for the step once — in the upload widget, with the preview, who added
    it when, and a remove button for the uploader — and the item the widget adds after an upload is the same."""
    [task] = [t for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "register_evidence"]
    user = task.assignee or "officer1"
    photo = demo_photo(tmp_path / "货架.jpg", taken=clock(), lat=30.27, lon=120.15, label="shelf")
    staged = stage_evidence(StageEvidence(evidence_case.number, user, "货架.jpg", photo, task.id, "货架"), svc=svc,
                            clock=clock)
    remove = f'action="/cases/{evidence_case.case_id}/evidence/{staged.id}/remove"'
    login(client, user)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert page.count(f'id="evidence-{staged.id}"') == 1 and page.count(f'<img src="/evidence/{staged.id}"') == 1
    widget = _section(page, 'id="evidence-upload"')
    assert f'data-id="{staged.id}"' in widget and f'<img src="/evidence/{staged.id}"' in widget
    assert remove in widget and f'value="/tasks/{task.id}"' in widget
    assert 'data-list="#evidence-upload .evidence-list"' in widget and 'id="step-evidence"' not in page
    assert "王承办" in widget or "赵承办" in widget  # who added it (and when)

    # What the widget adds after an upload: the same item, drawn by the server.
    item = client.get(f"/evidence/{staged.id}/item?back=/tasks/{task.id}").get_data(as_text=True)
    assert item.strip().startswith(f'<li class="evidence-item ev-image" id="evidence-{staged.id}"')
    assert remove in item and f'name="next" value="/tasks/{task.id}"' in item and "货架" in item
    assert 'name="next" value="/"' in client.get(f"/evidence/{staged.id}/item?back=//evil.example/x") \
        .get_data(as_text=True)  # never back to another site

    # The head sees the step's files (read only: not theirs to remove) once; a stranger gets nothing.
    _as(client, "head")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert page.count(f'id="evidence-{staged.id}"') == 1 and "remove" not in _section(page, 'id="step-evidence"')
    assert remove not in client.get(f"/evidence/{staged.id}/item").get_data(as_text=True)
    _as(client, "publisher")
    assert client.get(f"/evidence/{staged.id}/item").status_code == 403


def test_the_case_page_lists_each_file_once_and_the_uploader_may_remove_a_staged_one(evidence_case, client):
    """The case's files are one list (the evidence section) the case's upload widget adds to; the clerk's staged
    PDF has its remove button there, and nobody else's file has one."""
    login(client, "clerk")
    page = client.get(f"/cases/{evidence_case.case_id}").get_data(as_text=True)
    section = _section(page, 'id="evidence"')
    assert page.count(f'id="evidence-{evidence_case.staged}"') == 1
    assert page.count(f'<object data="/evidence/{evidence_case.staged}"') == 1
    assert section.count("/remove") == 1
    assert f'/evidence/{evidence_case.staged}/remove' in section
    assert 'data-list="#evidence .evidence-list"' in _section(page, 'id="evidence-upload"')


def test_the_upload_is_offered_only_to_who_may_add_evidence(evidence_case, client, svc):
    """The engine's decision (duties `refusal_to_add_evidence`), shown beforehand as the views' `may_add_evidence`:
    the widget is drawn only for who may add — the step's officer on its page, who handles the case on the case
    page — never for the auditor or a head who supervises the step."""
    [task] = [t for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "register_evidence"]
    officer = task.assignee or "officer1"
    widget = 'id="evidence-upload"'
    for user, on_task, on_case in ((officer, True, True), ("clerk", False, True), ("head", False, True),
                                   ("auditor", False, False)):
        _as(client, user)
        assert (widget in client.get(f"/tasks/{task.id}").get_data(as_text=True)) is on_task, user
        assert (widget in client.get(f"/cases/{evidence_case.case_id}").get_data(as_text=True)) is on_case, user
        shown = client.get(f"/api/tasks/{task.id}")
        assert shown.status_code == (403 if user == "clerk" else 200), user  # the step is not the clerk's lane
        assert (shown.status_code == 200 and shown.get_json()["may_add_evidence"]) is on_task, user
        assert client.get(f"/api/cases/{evidence_case.case_id}").get_json()["may_add_evidence"] is on_case, user
