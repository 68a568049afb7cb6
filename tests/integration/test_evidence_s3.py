"""Evidence files in an S3-compatible object store (several servers share it): chosen by configuration read
once at start, and the whole path — stage, sign into the record, read back, collect — against moto's S3
server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os

import pytest

from engine.blobs import DirectoryStore, S3Store
from engine.demo import SCENARIOS, play_step
from engine.demo_files import demo_photo
from engine.errors import NotFound
from engine.journal import EVIDENCE_KEY
from engine.spiff.clocks import MutableClock
from engine.startup import build_services
from engine.usecases.audit import verify_cases
from engine.usecases.evidence import collect_evidence, open_evidence, stage_evidence
from engine.values import StageEvidence, fixed_clock
from tests.conftest import TEST_KDF_COST, TEST_PASSWORD_COST, at
from tests.integration.test_signed_records import LATER, _records, _stop_at
from tests.unit.evidence.s3server import s3_server

BUCKET = "casetrail-evidence"


@pytest.fixture
def endpoint(monkeypatch):
    with s3_server(monkeypatch) as url:
        yield url


def test_the_store_is_configured_once_at_start(tmp_path, monkeypatch, endpoint):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setenv("CASETRAIL_BLOB_STORE", f"s3://{BUCKET}/agency-a")
    monkeypatch.setenv("CASETRAIL_S3_ENDPOINT", endpoint)
    svc = build_services(url, upgrade=False, data_dir=tmp_path, kdf_cost=TEST_KDF_COST,
                         password_cost=TEST_PASSWORD_COST)
    monkeypatch.setenv("CASETRAIL_BLOB_STORE", str(tmp_path / "elsewhere"))  # read once: no effect now
    assert isinstance(svc.blobs, S3Store) and (svc.blobs.bucket, svc.blobs.prefix) == (BUCKET, "agency-a/")
    svc.engine.dispose()
    monkeypatch.delenv("CASETRAIL_BLOB_STORE")
    default = build_services(url, upgrade=False, data_dir=tmp_path, kdf_cost=TEST_KDF_COST,
                             password_cost=TEST_PASSWORD_COST)
    assert isinstance(default.blobs, DirectoryStore) and default.blobs.root == tmp_path / "blobs"
    default.engine.dispose()


def test_stage_sign_read_and_collect_over_s3(ready_svc, endpoint, tmp_path):
    ready_svc.blobs = S3Store.from_url(f"s3://{BUCKET}/files", endpoint=endpoint)
    ready_svc.blobs.client.create_bucket(Bucket=BUCKET)
    case, task = _stop_at(ready_svc, "penalty_waiver", "onsite_inspection")
    actor = task.assignee or task.candidates[0]
    photo = demo_photo(tmp_path / "p.jpg", taken=at("2026-09-15 09:30"), lat=31.2, lon=121.4)
    kept = stage_evidence(StageEvidence(case.number, actor, "p.jpg", photo, task.id), svc=ready_svc,
                          clock=fixed_clock(at("2026-09-15 10:00")))
    big = tmp_path / "clip.mp4"  # larger than boto3's multipart threshold (8 MiB): uploaded in parts
    with big.open("wb") as f:
        f.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
        f.write(os.urandom(9 * (1 << 20)))
    clip = stage_evidence(StageEvidence(case.number, actor, "clip.mp4", big, task.id), svc=ready_svc,
                          clock=fixed_clock(at("2026-09-15 10:00")))
    step = next(s for s in SCENARIOS["penalty_waiver"].steps if s.spec_id == "onsite_inspection")
    play_step(ready_svc, case.number, step, MutableClock(at("2026-09-16 10:00")))
    record = _records(ready_svc, case.id)[-1].record
    drawn = record.form_data["party_signature"]["image"]  # the party's signature, stored in the same store
    assert [e["sha256"] for e in record.form_data[EVIDENCE_KEY]] == [kept.sha256, clip.sha256, drawn["sha256"]]
    view, stream = open_evidence(ready_svc, clip.id, "auditor")
    with stream:
        assert hashlib.sha256(stream.read()).hexdigest() == clip.sha256 == view.sha256
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()
    # An object no row names, older than the age, is collected; the three in the record stay.
    orphan = tmp_path / "orphan.jpg"
    orphan.write_bytes(photo.read_bytes() + b"\x00")
    stray = ready_svc.blobs.put(orphan).sha256
    assert collect_evidence(ready_svc, clock=fixed_clock(at("2030-01-01 00:00"))).blobs == 1
    assert sorted(ready_svc.blobs.digests()) == sorted([kept.sha256, clip.sha256, drawn["sha256"]]) and stray not in \
        set(ready_svc.blobs.digests())


def test_a_range_is_asked_of_the_store_not_read_and_discarded(endpoint, tmp_path):
    """A seek (werkzeug serves a Range through it) becomes a ranged GET: the bytes before the offset never
    cross the network, and what is read from there is the file's own bytes."""
    store = S3Store.from_url(f"s3://{BUCKET}/ranges", endpoint=endpoint)
    store.client.create_bucket(Bucket=BUCKET)
    source = tmp_path / "clip.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    source.write_bytes(data)
    digest = store.put(source).sha256
    transferred: list[int] = []
    store.client.meta.events.register("after-call.s3.GetObject",
                                      lambda parsed, **_: transferred.append(int(parsed.get("ContentLength", 0))))
    offset = 3 * (1 << 20)
    with store.open(digest) as stream:
        assert stream.seekable()
        stream.seek(offset)
        assert stream.tell() == offset
        assert stream.read() == data[offset:]
    assert transferred[-1] == len(data) - offset  # the second GET carried only the range
    with store.open(digest) as stream:  # a whole read stays one request
        assert stream.read() == data
    assert transferred[-1] == len(data)
    with store.open(digest) as stream:  # at the end: nothing, not an error
        stream.seek(len(data))
        assert stream.read() == b""
        stream.seek(-17, os.SEEK_END)
        assert stream.read() == data[-17:]
    with pytest.raises(NotFound):
        store.open("0" * 64)


def test_a_range_of_an_s3_file_is_served_through_the_web(endpoint, tmp_path):
    """The evidence route's Range answer over the S3 store, through werkzeug's seek path (206, the bytes)."""
    from flask import Flask, request, send_file

    store = S3Store.from_url(f"s3://{BUCKET}/web", endpoint=endpoint)
    store.client.create_bucket(Bucket=BUCKET)
    source = tmp_path / "v.bin"
    data = os.urandom(2 * (1 << 20))
    source.write_bytes(data)
    digest = store.put(source).sha256
    app = Flask(__name__)

    @app.get("/f")
    def f():
        response = send_file(store.open(digest), mimetype="application/octet-stream", conditional=False)
        return response.make_conditional(request, accept_ranges=True, complete_length=len(data))

    answer = app.test_client().get("/f", headers={"Range": "bytes=1048576-1048675"})
    assert answer.status_code == 206 and answer.data == data[1048576:1048676]
