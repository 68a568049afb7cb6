"""先行登记保存 (《行政处罚法》第五十六条) signed by the party on the screen, played through the engine (issue 14).

The party signs the 物品清单 of the 证据先行登记保存决定书 on the terminal: a drawn signature, or 拒绝签名 with the
officers' note and a witness who signs on the screen. Either drawing is a file of the approval step: its signed
record lists it, the 文书 draws it in the party's block from the stored file, `casetrail verify` re-hashes it and
an altered PNG fails naming that step; the evidence bundle carries it and `verify-bundle` re-hashes it.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json

import pdfplumber
import pytest
from click.testing import CliRunner
from PIL import Image, ImageChops
from sqlalchemy import select

from engine.blobs import DirectoryStore
from engine.db.document_tables import DocumentRow
from engine.demo import play
from engine.errors import EvidenceDamaged
from engine.journal import EVIDENCE_KEY
from engine.rules.drawn_images import DATA_URL_PREFIX
from engine.spiff.scenarios import PRESERVATIONS
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from signatures.report import Check, Status
from tests.integration.conftest import PLAY_START
from tests.integration.test_evidence_bundle import _members, _rezip, _root
from tests.integration.test_signed_records import LATER, _records

KIND = "evidence_preservation_decision"  # the 文书 of the approval step (workflows/documents.json)


@dataclasses.dataclass(frozen=True)
class Preserved:
    svc: object
    number: str
    case_id: int
    seq: int
    task_name: str
    form: dict  # the approval step's form as its signed record holds it
    drawn: dict  # the one file the record lists: the party's drawing, or the witness's
    png: bytes  # that drawing as the scenario drew it on the screen


@pytest.fixture(params=sorted(PRESERVATIONS))
def preserved(request, ready_svc, tmp_path) -> Preserved:
    """A case of the scenario played through the engine up to and including the 负责人's approval of 先行登记保存,
    with an evidence store of the test's own (the test alters a stored PNG; the session's store is shared)."""
    ready_svc.blobs = DirectoryStore(tmp_path / "blobs")
    scenario = PRESERVATIONS[request.param]
    ids = [s.spec_id for s in scenario.steps]
    case = play(ready_svc, scenario, start=PLAY_START, stop_before=ids.index("approve_preservation") + 1).case
    record = _records(ready_svc, case.id)[-1].record
    assert record.task_spec_id == "approve_preservation"
    submitted = scenario.steps[ids.index("approve_preservation")].overrides["party_signature"]
    field = "image" if submitted["mode"] == "drawn" else "witness_signature"
    png = base64.b64decode(submitted[field].removeprefix(DATA_URL_PREFIX))
    [drawn] = record.form_data[EVIDENCE_KEY]  # no photo was staged: the drawing is the step's one file
    assert drawn["sha256"] == record.form_data["party_signature"][field]["sha256"]
    return Preserved(ready_svc, case.number, case.id, record.seq, record.task_name, record.form_data, drawn, png)


def _pdf(p: Preserved) -> bytes:
    with p.svc.uow.read() as session:
        return session.scalars(select(DocumentRow.pdf).where(DocumentRow.case_id == p.case_id,
                                                             DocumentRow.kind == KIND)).one()


def _on_white(image: Image.Image) -> Image.Image:
    """The picture as it prints: a transparent canvas's ink on white paper, as RGB."""
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")


def _embedded(pdf: bytes) -> list[tuple[dict, Image.Image]]:
    """Each image placed on the pages (where pdfplumber sees it) with its pixels, its soft mask applied."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pixels = [img.image for page in reader.pages for img in page.images]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        placed = [image for page in document.pages for image in page.images]
    assert len(placed) == len(pixels)
    return list(zip(placed, pixels, strict=True))


def _label_above(pdf: bytes, image: dict, label: str) -> dict:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        words = document.pages[image["page_number"] - 1].extract_words()
    return max((w for w in words if w["text"].startswith(label) and w["bottom"] <= image["top"]),
               key=lambda w: w["bottom"])


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "".join("".join((page.extract_text() or "").split()) for page in document.pages)


def _altered(p: Preserved) -> None:
    """One bit of the stored PNG flipped, as someone with the store's directory could do."""
    blob = p.svc.blobs.path(p.drawn["sha256"])
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))


def test_the_record_lists_the_drawing_and_the_decision_shows_it_in_the_party_block(preserved):
    p = preserved
    refused = p.form["party_signature"]["mode"] == "refused"
    name = "见证人签名.png" if refused else "当事人签名.png"  # the form's title for the drawing
    assert (p.drawn["name"], p.drawn["size"], p.drawn["media_type"]) == (name, len(p.png), "image/png")
    assert "data:image" not in json.dumps(p.form)  # the picture is a file, not part of the form
    assert p.svc.blobs.open(p.drawn["sha256"]).read() == p.png
    pdf = _pdf(p)
    [(placed, pixels)] = _embedded(pdf)  # drawn once, in the party's block
    assert placed["srcsize"] == Image.open(io.BytesIO(p.png)).size  # at the drawing's own resolution
    assert ImageChops.difference(_on_white(pixels), _on_white(Image.open(io.BytesIO(p.png)))).getbbox() is None
    label = _label_above(pdf, placed, "见证人：" if refused else "当事人：")
    assert 0 <= placed["top"] - label["bottom"] < 20 or abs(placed["top"] - label["top"]) < 20  # beside or under it
    text = _text(pdf)
    if refused:
        assert "当事人：拒绝签名" in text and "拒签情况：当事人对先行登记保存物品清单无异议，但拒绝签名" in text
        assert "见证人：赵某某（所在社区居委会工作人员）" in text and "音像记录：执法记录仪DSJ-0231录像" in text
    else:
        assert "当事人：王某某" in text and "拒绝签名" not in text
    assert "无证经营的价" in text and "保存地点：呈州市和平路8号店内" in text  # the 清单 the party signed (cells wrap)
    assert "价目表和登记簿是无证经营的证据，可能灭失，同意先行登记保存" in text  # the 负责人's opinion
    [report] = verify_cases(p.svc, [p.number], clock=LATER, rehash=True)
    assert report.ok, report.to_text()
    assert report.step(p.seq).check(Check.EVIDENCE).reason == "1 files re-hashed"


def test_an_altered_stored_png_fails_verify_naming_the_step(preserved):
    p = preserved
    _altered(p)
    [quick] = verify_cases(p.svc, [p.number], clock=LATER)  # the same length: only the re-hash sees it
    assert quick.ok, quick.to_text()
    [full] = verify_cases(p.svc, [p.number], clock=LATER, rehash=True)
    failure = full.first_failure
    assert (failure.seq, failure.check) == (p.seq, Check.EVIDENCE), full.to_text()
    assert p.drawn["name"] in failure.reason and "altered" in failure.reason
    assert f"step {p.seq} {p.task_name}: file '{p.drawn['name']}'" in failure.reason  # the step, by number and name
    with pytest.raises(EvidenceDamaged, match=p.drawn["name"]):  # no bundle vouches for a damaged copy
        export_case(p.svc, p.number, clock=LATER)
    p.svc.blobs.path(p.drawn["sha256"]).unlink()
    [gone] = verify_cases(p.svc, [p.number], clock=LATER)
    assert gone.first_failure.seq == p.seq and p.drawn["name"] in gone.first_failure.reason


def test_the_bundle_carries_the_drawing_and_verify_bundle_re_hashes_it(preserved, tmp_path):
    from engine.cli import main

    p = preserved
    bundle = export_case(p.svc, p.number, clock=LATER)
    files = _members(bundle)
    path = f"evidence/{p.seq:04d}-{p.task_name}/{p.drawn['id']}-{p.drawn['name']}"
    assert files[path] == p.png
    [entry] = [e for e in json.loads(files["manifest.json"])["evidence"] if e["seq"] == p.seq]
    assert (entry["id"], entry["sha256"], entry["path"]) == (p.drawn["id"], p.drawn["sha256"], path)
    report = verify_bundle_file(bundle, _root(p.svc))
    assert report.ok, report.to_text()
    check = report.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.PASSED and check.reason == "1 files re-hashed"
    # One changed byte of the PNG in the zip: the bundle fails naming the step and the file, and the CLI exits 1.
    data = bytearray(files[path])
    data[len(data) // 2] ^= 0x01
    changed = _rezip(bundle, members={path: bytes(data)})
    altered = verify_bundle_file(changed, _root(p.svc))
    check = altered.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.FAILED, altered.to_text()
    assert f"step {p.seq} {p.task_name}: file '{p.drawn['name']}' (no. {p.drawn['id']}" in check.reason
    assert "altered" in check.reason
    (tmp_path / "altered.zip").write_bytes(changed)
    (tmp_path / "root.pem").write_bytes(_root(p.svc))
    result = CliRunner().invoke(main, ["verify-bundle", str(tmp_path / "altered.zip"), "--trust",
                                       str(tmp_path / "root.pem")])
    assert result.exit_code == 1 and f"step {p.seq} {p.task_name}: file '{p.drawn['name']}'" in result.output
