"""The blob stores: the directory under the data dir and an S3-compatible store (moto's server on 127.0.0.1),
one test body for both."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.blobs import BlobStore, DirectoryStore, S3Store, blob_store_from
from engine.errors import ConfigurationError, NotFound
from tests.unit.evidence.s3server import s3_server


@pytest.fixture(params=["directory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BlobStore]:
    if request.param == "directory":
        yield DirectoryStore(tmp_path / "blobs")
        return
    with s3_server(monkeypatch) as endpoint:
        store = blob_store_from("s3://evidence-bucket/case-files", data_dir=tmp_path, endpoint=endpoint)
        assert isinstance(store, S3Store)
        store.client.create_bucket(Bucket="evidence-bucket")
        yield store


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_put_stores_the_bytes_under_their_digest_once_and_reads_them_back(store, tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # more than one chunk, not a multiple of it
    digest = hashlib.sha256(data).hexdigest()
    info = store.put(_file(tmp_path / "video.mp4", data))
    assert (info.sha256, info.size) == (digest, len(data))
    assert store.put(_file(tmp_path / "same bytes, another name", data)) == info  # idempotent
    assert store.exists(digest)
    with store.open(digest) as stream:
        assert stream.read() == data
    assert list(store.digests()) == [digest]


def test_delete_and_absent_blobs(store, tmp_path):
    kept = store.put(_file(tmp_path / "a", b"kept")).sha256
    gone = store.put(_file(tmp_path / "b", b"gone")).sha256
    store.delete(gone)
    store.delete(gone)  # deleting what is absent is no error
    assert not store.exists(gone) and store.exists(kept)
    assert sorted(store.digests()) == [kept]
    with pytest.raises(NotFound):
        store.open(gone)


def test_digests_before_a_moment_leave_out_blobs_stored_since(store, tmp_path):
    digest = store.put(_file(tmp_path / "a", b"evidence")).sha256
    assert list(store.digests(stored_before=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))) == [digest]
    assert list(store.digests(stored_before=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))) == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "ABC", "", "0" * 63, "g" * 64])
def test_a_name_that_is_not_a_digest_names_nothing(store, name):
    with pytest.raises(NotFound):
        store.open(name)
    with pytest.raises(NotFound):
        store.exists(name)


def test_directory_blobs_are_read_only_files_in_two_levels_and_no_temporary_file_is_left(tmp_path):
    store = DirectoryStore(tmp_path / "blobs")
    digest = store.put(_file(tmp_path / "a", b"photo")).sha256
    path = tmp_path / "blobs" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == b"photo"
    assert not path.stat().st_mode & 0o222
    assert [p.name for p in (tmp_path / "blobs").iterdir()] == [digest[:2]]


def test_configuration_names_the_store(tmp_path):
    assert isinstance(blob_store_from(None, data_dir=tmp_path), DirectoryStore)
    assert blob_store_from("", data_dir=tmp_path).root == tmp_path / "blobs"  # type: ignore[attr-defined]
    assert blob_store_from(str(tmp_path / "x"), data_dir=tmp_path).root == tmp_path / "x"  # type: ignore[attr-defined]
    for bad in ("ftp://host/x", "s3://", "s3:///prefix-only"):
        with pytest.raises(ConfigurationError):
            blob_store_from(bad, data_dir=tmp_path)
