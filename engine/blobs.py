"""Content-addressed storage of evidence files (issue 14): a file is named by the SHA-256 of its bytes.

One small interface (`BlobStore`) over two stores: a directory under the data dir (the default, one server)
and an S3-compatible object store (several servers; boto3). `put` streams the file through the hash in
chunks — a 2 GB video never sits in memory — and is idempotent: the same bytes put twice are stored once. The
store knows nothing of cases: which blob a case references is the `evidence_files` table's business, and a blob
no row references is collected (engine/usecases/evidence.py `collect_evidence_garbage`).

Which store a process uses is configuration read once at start (engine/startup.py: `CASETRAIL_BLOB_STORE`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol
from urllib.parse import urlsplit

from engine.errors import ConfigurationError, NotFound

CHUNK = 1 << 20  # read and hash 1 MiB at a time
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int


class BlobStore(Protocol):
    """Where evidence bytes live, by digest."""

    def put(self, source: Path) -> BlobInfo:
        """Store the file (streamed, hashed on the way); idempotent."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A streaming read of the blob; NotFound if absent."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int | None:
        """The stored blob's length in bytes without reading it (None: absent): what `casetrail verify` compares
        with the signed size when it does not re-hash."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove the blob; nothing happens if it is absent."""
        ...

    def digests(self, stored_before: dt.datetime | None = None) -> Iterator[str]:
        """Every stored digest (those stored before `stored_before`, when given): for garbage collection."""
        ...

    def check_writable(self) -> None:
        """Raise OSError (or the store client's error) unless a blob could be stored now: `/readyz`."""
        ...


def check_digest(sha256: str) -> str:
    """A digest as stores name blobs: 64 lower-case hex digits (never a path of the caller's choosing)."""
    if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
        raise NotFound(f"证据文件不存在 (no such evidence file): {str(sha256)[:80]!r}")
    return sha256


def hash_file(source: Path, sink: IO[bytes] | None = None) -> BlobInfo:
    """SHA-256 and size of `source`, read in chunks; each chunk also written to `sink` when given."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if sink is not None:
                sink.write(chunk)
    return BlobInfo(digest.hexdigest(), size)


class DirectoryStore:
    """Blobs as read-only files `<root>/ab/cd/<sha256>`. A put copies into a temporary file in the root (same
    file system), hashing on the way, fsyncs it and renames it into place atomically: a reader never sees half
    a blob, and two processes putting the same bytes both succeed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: Path) -> BlobInfo:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as sink:
                info = hash_file(source, sink)
                sink.flush()
                os.fsync(sink.fileno())
            target = self.path(info.sha256)
            if target.exists():
                return info  # the same bytes are already stored
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(0o444)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            return info
        finally:
            tmp.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFound(f"证据文件不存在 (no such evidence file): {sha256}") from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def check_writable(self) -> None:
        """Make and remove a temporary file where a put makes its own (a read-only disk, a full one, a missing
        mount all fail here)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=".probe-", dir=self.root) as probe:
            probe.write(b"\0")
            probe.flush()

    def digests(self, stored_before: dt.datetime | None = None) -> Iterator[str]:
        if not self.root.is_dir():
            return
        limit = None if stored_before is None else stored_before.timestamp()
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                for blob in sorted(second.iterdir()):
                    if _DIGEST.fullmatch(blob.name) and (limit is None or blob.stat().st_mtime < limit):
                        yield blob.name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Store:
    """Blobs as objects `<prefix><sha256>` of a bucket of an S3-compatible store (several servers share it).

    A put hashes the file first (the key is its digest), then uploads it with boto3's managed transfer:
    multipart in chunks for large files, from the file, never whole in memory. Objects are immutable: a key
    that exists already holds these bytes."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    @classmethod
    def from_url(cls, url: str, *, endpoint: str | None = None, region: str | None = None) -> S3Store:
        """`s3://bucket/prefix` with the endpoint of the store (None: AWS's own); credentials as boto3 finds
        them (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role)."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ConfigurationError(f"对象存储地址格式应为 s3://bucket/prefix (CASETRAIL_BLOB_STORE must be "
                                     f"s3://bucket/prefix): {url!r}")
        try:
            import boto3
        except ImportError:  # pragma: no cover - the optional extra is missing
            raise ConfigurationError("使用对象存储需安装 boto3 (an S3 blob store needs boto3: pip install "
                                     "casetrail[s3])") from None
        prefix = parts.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None)
        return cls(parts.netloc, prefix, client=client)

    def key(self, sha256: str) -> str:
        return self.prefix + check_digest(sha256)

    def put(self, source: Path) -> BlobInfo:
        info = hash_file(source)
        if not self.exists(info.sha256):
            self.client.upload_file(str(source), self.bucket, self.key(info.sha256))
        return info

    def open(self, sha256: str) -> BinaryIO:
        reader = _S3Object(self.client, self.bucket, self.key(sha256))
        reader.fetch()  # an absent blob is NotFound here, as with the directory store
        return io.BufferedReader(reader, buffer_size=1 << 20)  # type: ignore[return-value]

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def size(self, sha256: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def check_writable(self) -> None:
        """Write and delete a probe object beside the blobs (its key is no digest, so nothing lists it)."""
        key = f"{self.prefix}readiness-probe-{os.getpid()}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=b"")
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def digests(self, stored_before: dt.datetime | None = None) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(self.prefix):]
                if _DIGEST.fullmatch(name) and (stored_before is None or item["LastModified"] < stored_before):
                    yield name


class _S3Object(io.RawIOBase):
    """An object read as a seekable file: a whole-object GET at first; a seek elsewhere (a video player's or
    a resumed download's Range, served by werkzeug through `seek`) drops that stream and asks the store for the
    rest from the offset (`Range: bytes=N-`), so no byte before it crosses the network."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.position = 0
        self.length: int | None = None
        self.body: Any = None

    def fetch(self) -> None:
        from botocore.exceptions import ClientError

        extra = {"Range": f"bytes={self.position}-"} if self.position else {}
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key, **extra)
        except ClientError as exc:
            if _missing(exc):
                raise NotFound(f"证据文件不存在 (no such evidence file): {self.key.rsplit('/', 1)[-1]}") from None
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # at or past the end: nothing left
                self.body = io.BytesIO()
                return
            raise
        self.body = response["Body"]
        if not self.position:
            self.length = int(response["ContentLength"])

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.position
        elif whence == io.SEEK_END:
            if self.length is None:
                self.length = int(self.client.head_object(Bucket=self.bucket, Key=self.key)["ContentLength"])
            offset += self.length
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        if offset != self.position:
            self._drop()
            self.position = offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        if self.body is None:
            self.fetch()
        data = self.body.read(len(buffer))
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)

    def close(self) -> None:
        self._drop()
        super().close()

    def _drop(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None


def _missing(exc: Any) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def blob_store_from(location: str | None, *, data_dir: Path, endpoint: str | None = None,
                    region: str | None = None) -> BlobStore:
    """The store `location` names: None or empty — `<data dir>/blobs`; `s3://bucket/prefix` — an object
    store at `endpoint`; a path — that directory."""
    if not location:
        return DirectoryStore(data_dir / "blobs")
    if location.startswith("s3://"):
        return S3Store.from_url(location, endpoint=endpoint, region=region)
    if "://" in location:
        raise ConfigurationError(f"不支持的文件存储 (unsupported CASETRAIL_BLOB_STORE): {location!r}")
    return DirectoryStore(Path(location).resolve())


__all__ = ["BlobInfo", "BlobStore", "DirectoryStore", "S3Store", "blob_store_from", "check_digest", "hash_file"]
