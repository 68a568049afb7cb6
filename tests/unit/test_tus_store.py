"""The upload store on disk (web/tus_store.py): offsets from the bytes on disk, owners, expiry, the write lock
across processes, and bounded reads."""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import os

import pytest

from web.tus_store import BLOCK, UploadError, UploadStore

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    return UploadStore(tmp_path / "uploads", lifetime=dt.timedelta(hours=24))


def reader(data: bytes, reads: list[int] | None = None):
    stream = io.BytesIO(data)

    def read(n: int) -> bytes:
        if reads is not None:
            reads.append(n)
        return stream.read(n)

    return read


def test_chunks_append_at_the_offset_the_disk_holds(store):
    upload = store.create("officer1", 10, {"filename": "a.jpg", "case": "1"}, NOW)
    with store.writing(upload.id, "officer1", NOW) as writer:
        assert writer.append(0, reader(b"hello"), 5).offset == 5
    with store.writing(upload.id, "officer1", NOW) as writer:
        with pytest.raises(UploadError) as refused:
            writer.append(3, reader(b"xx"), 2)
        assert refused.value.status == 409 and refused.value.params == {"have": 5, "sent": 3}
        done = writer.append(5, reader(b"world"), 5)
    assert done.complete
    assert (store.root / upload.id / "data").read_bytes() == b"helloworld"
    assert store.get(upload.id, "officer1", NOW).offset == 10


def test_a_body_that_breaks_off_keeps_what_arrived(store):
    upload = store.create("officer1", 100, {}, NOW)

    stream = io.BytesIO(b"x" * 30)

    def broken(n: int) -> bytes:
        block = stream.read(min(n, 30))
        if not block:
            raise ConnectionResetError("client went away")
        return block

    with store.writing(upload.id, "officer1", NOW) as writer, pytest.raises(ConnectionResetError):
        writer.append(0, broken, 100)
    assert store.get(upload.id, "officer1", NOW).offset == 30


def test_more_than_the_declared_length_is_refused_and_nothing_written(store):
    upload = store.create("officer1", 4, {}, NOW)
    with store.writing(upload.id, "officer1", NOW) as writer, pytest.raises(UploadError) as declared:
        writer.append(0, reader(b"12345"), 5)
    assert declared.value.status == 413
    with store.writing(upload.id, "officer1", NOW) as writer, pytest.raises(UploadError) as streamed:
        writer.append(0, reader(b"12345"), None)  # no Content-Length: found out while reading
    assert streamed.value.status == 413
    assert store.get(upload.id, "officer1", NOW).offset == 0


def test_reads_are_bounded_blocks(store):
    size = 3 * BLOCK + 17
    upload = store.create("officer1", size, {}, NOW)
    reads: list[int] = []
    with store.writing(upload.id, "officer1", NOW) as writer:
        writer.append(0, reader(b"\0" * size, reads), size)
    assert max(reads) == BLOCK and sum(reads) == size


def test_another_users_upload_is_unknown(store):
    upload = store.create("officer1", 4, {}, NOW)
    for attempt in (lambda: store.get(upload.id, "officer2", NOW),
                    lambda: store.delete(upload.id, "officer2", NOW)):
        with pytest.raises(UploadError) as refused:
            attempt()
        assert refused.value.status == 404
    assert store.get(upload.id, "officer1", NOW).length == 4


@pytest.mark.parametrize("upload_id", ["../etc", "0" * 31, "A" * 32, "0" * 32])
def test_ids_that_are_not_ours_are_unknown(store, upload_id):
    with pytest.raises(UploadError) as refused:
        store.get(upload_id, "officer1", NOW)
    assert refused.value.status == 404


def test_an_expired_upload_is_gone_and_collected(store):
    old = store.create("officer1", 4, {}, NOW)
    fresh = store.create("officer1", 4, {}, NOW + dt.timedelta(hours=23))
    later = NOW + dt.timedelta(hours=24, seconds=1)
    with pytest.raises(UploadError) as refused:
        store.get(old.id, "officer1", later)
    assert refused.value.status == 410
    assert not (store.root / old.id).exists()
    store.create("officer1", 4, {}, NOW + dt.timedelta(hours=48))  # creating collects the expired ones
    assert not (store.root / fresh.id).exists()


def test_termination_removes_the_bytes(store):
    upload = store.create("officer1", 4, {}, NOW)
    store.delete(upload.id, "officer1", NOW)
    assert not (store.root / upload.id).exists()
    with pytest.raises(UploadError):
        store.get(upload.id, "officer1", NOW)


def test_a_finished_upload_keeps_its_result_not_its_bytes(store):
    upload = store.create("officer1", 2, {"filename": "a"}, NOW)
    with store.writing(upload.id, "officer1", NOW) as writer:
        writer.append(0, reader(b"ok"), 2)
        writer.finish({"id": 7, "sha256": "ab" * 32})
    again = store.get(upload.id, "officer1", NOW)
    assert again.complete and again.result == {"id": 7, "sha256": "ab" * 32}
    assert not (store.root / upload.id / "data").exists()
    with store.writing(upload.id, "officer1", NOW) as writer:  # a client that missed the answer asks again
        assert writer.append(2, reader(b""), 0).result == {"id": 7, "sha256": "ab" * 32}


def _hold_lock(root: str, upload_id: str, ready, release) -> None:
    held = UploadStore(__import__("pathlib").Path(root), lifetime=dt.timedelta(hours=1))
    with held.writing(upload_id, "officer1", NOW):
        ready.set()
        release.wait(30)


def test_a_second_writer_in_another_process_is_told_to_come_back(store):
    upload = store.create("officer1", 4, {}, NOW)
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    other = context.Process(target=_hold_lock, args=(os.fspath(store.root), upload.id, ready, release))
    other.start()
    try:
        assert ready.wait(30)
        with pytest.raises(UploadError) as busy, store.writing(upload.id, "officer1", NOW):
            pass
        assert busy.value.status == 423
    finally:
        release.set()
        other.join(30)
    with store.writing(upload.id, "officer1", NOW) as writer:  # released: the next request gets it
        assert writer.append(0, reader(b"abcd"), 4).complete
