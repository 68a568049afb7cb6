"""Resumable uploads on disk: the state of the tus 1.0 protocol without HTTP (web/uploads.py speaks HTTP).

Each upload is a directory `<root>/<id>/` holding `info.json` (who, how long, its metadata, when it expires, and
once finished what it became) and `data` (the bytes received so far). The offset is the size of `data`, so
whatever a dropped connection had delivered counts, and every process serving the app (several gunicorn
workers, several servers on one data directory) sees the same state: nothing is kept in a process's memory.
A writer holds an exclusive `flock` on `data` while it appends or finishes; a second writer of the same upload
is told to come back (423) rather than interleave. Bytes go to disk in bounded blocks; nothing here holds a
whole chunk, let alone a whole file, in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.utils import format_datetime
from pathlib import Path
from typing import Any, BinaryIO

BLOCK = 1024 * 1024  # bytes read from the request and written to disk at a time
_ID = re.compile(r"[0-9a-f]{32}")


class UploadError(Exception):
    """A refusal with its HTTP status (404 unknown, 409 offset, 410 expired, 413 too large, 423 busy) and the
    key of its message in web/messages.py, with the message's parameters."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


UNKNOWN = "upload.unknown"
EXPIRED = "upload.expired"
BUSY = "upload.busy"


@dataclass(frozen=True)
class Upload:
    """One upload's state as read from disk."""

    id: str
    owner: str  # the user who created it; nobody else may see or touch it
    length: int
    metadata: dict[str, str]
    created: dt.datetime
    expires: dt.datetime
    offset: int = 0
    result: dict[str, Any] | None = field(default=None)  # what the finished upload became (the staged file)

    @property
    def complete(self) -> bool:
        return self.offset >= self.length

    def headers(self) -> dict[str, str]:
        """The tus headers that tell a client where the upload stands, and once staged what it became."""
        headers = {"Upload-Offset": str(self.offset), "Upload-Length": str(self.length),
                   "Upload-Expires": format_datetime(self.expires.astimezone(dt.UTC), usegmt=True)}
        if self.result:
            headers["X-Evidence-Id"] = str(self.result["id"])
            headers["X-Evidence-Sha256"] = str(self.result["sha256"])
        return headers

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "length": self.length, "offset": self.offset, "metadata": self.metadata,
                "expires": self.expires.isoformat(), "result": self.result}


class UploadStore:
    """Uploads under `root`, each living `lifetime` after its creation (unless finished and collected earlier)."""

    def __init__(self, root: Path, *, lifetime: dt.timedelta) -> None:
        self.root = root
        self.lifetime = lifetime

    # -- reading -------------------------------------------------------------------------------------------------

    def _dir(self, upload_id: str) -> Path:
        if not _ID.fullmatch(upload_id):
            raise UploadError(404, UNKNOWN)  # also keeps anything but our own ids out of the path
        return self.root / upload_id

    def get(self, upload_id: str, owner: str, now: dt.datetime) -> Upload:
        """The upload, if `owner` created it and it has not expired (an expired one is removed: 410)."""
        folder = self._dir(upload_id)
        try:
            info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UploadError(404, UNKNOWN) from None
        upload = _from_json(upload_id, info)
        if upload.owner != owner:
            raise UploadError(404, UNKNOWN)  # another user's upload: as if it did not exist
        if upload.expires <= now:
            shutil.rmtree(folder, ignore_errors=True)
            raise UploadError(410, EXPIRED)
        try:
            offset = (folder / "data").stat().st_size
        except FileNotFoundError:
            offset = upload.length if upload.result is not None else 0
        return replace(upload, offset=offset)

    # -- changing ------------------------------------------------------------------------------------------------

    def create(self, owner: str, length: int, metadata: dict[str, str], now: dt.datetime) -> Upload:
        self.collect(now)
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        folder.mkdir(parents=True, mode=0o700)
        (folder / "data").touch(mode=0o600)
        upload = Upload(id=upload_id, owner=owner, length=length, metadata=dict(metadata), created=now,
                        expires=now + self.lifetime)
        _write_info(folder, upload)
        return upload

    @contextlib.contextmanager
    def writing(self, upload_id: str, owner: str, now: dt.datetime) -> Iterator[Writer]:
        """The upload locked for writing by this request alone (else 423), read again under the lock."""
        self.get(upload_id, owner, now)
        folder = self._dir(upload_id)
        try:
            handle = open(folder / "data", "r+b")  # noqa: SIM115 - held open for the lock's lifetime
        except FileNotFoundError:  # finished (its data handed on) or removed meanwhile
            handle = None
        if handle is None:
            yield Writer(self, folder, self.get(upload_id, owner, now), None)
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise UploadError(423, BUSY) from None
                raise
            try:
                yield Writer(self, folder, self.get(upload_id, owner, now), handle)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def delete(self, upload_id: str, owner: str, now: dt.datetime) -> None:
        """Terminate the upload: its bytes and its state go (tus termination)."""
        with self.writing(upload_id, owner, now) as writer:
            writer.remove()

    def collect(self, now: dt.datetime) -> int:
        """Remove every expired upload (an abandoned one keeps its disk space until then); how many went."""
        removed = 0
        try:
            folders = list(self.root.iterdir())
        except FileNotFoundError:
            return 0
        for folder in folders:
            try:
                info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
                expires = dt.datetime.fromisoformat(info["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                # Half-created (no info yet) or damaged: gone once it is older than an upload may live.
                try:
                    age = now.timestamp() - folder.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age < self.lifetime.total_seconds():
                    continue
                expires = now
            if expires <= now:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


@dataclass
class Writer:
    """An upload held for writing (see `UploadStore.writing`)."""

    store: UploadStore
    folder: Path
    upload: Upload
    handle: BinaryIO | None  # None once the upload's data has been handed on (finished)

    @property
    def data_path(self) -> Path:
        return self.folder / "data"

    def append(self, offset: int, read: Callable[[int], bytes], declared: int | None) -> Upload:
        """Append the request body at `offset`, which must be the upload's (409 otherwise), reading it with
        `read(n)` in blocks of at most BLOCK bytes; `declared` is the body's Content-Length if it has one. What
        arrived stays even if the body breaks off (the client asks the offset and goes on from there); more than
        the upload's length is refused (413) with nothing written."""
        upload = self.upload
        if offset != upload.offset:
            raise UploadError(409, "upload.offset", have=upload.offset, sent=offset)
        remaining = upload.length - upload.offset
        if declared is not None and declared > remaining:
            raise UploadError(413, "upload.too_much", remaining=remaining)
        if self.handle is None:
            return upload
        handle = self.handle
        handle.seek(upload.offset)
        written = 0
        try:
            while written < remaining:
                block = read(min(BLOCK, remaining - written))
                if not block:
                    break
                handle.write(block)
                written += len(block)
            if written == remaining and declared is None and read(1):
                handle.truncate(upload.offset)
                written = 0
                raise UploadError(413, "upload.too_much", remaining=remaining)
        finally:
            handle.flush()
        self.upload = replace(upload, offset=upload.offset + written)
        return self.upload

    def finish(self, result: dict[str, Any]) -> Upload:
        """The upload became `result` (its data handed on): keep only that, until the upload expires, so a
        client that missed the answer can ask again."""
        self.upload = replace(self.upload, result=dict(result))
        _write_info(self.folder, self.upload)
        with contextlib.suppress(FileNotFoundError):
            self.data_path.unlink()
        return self.upload

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_info(folder: Path, upload: Upload) -> None:
    """info.json replaced atomically: a reader sees the old state or the new one, never half of one."""
    data = {"owner": upload.owner, "length": upload.length, "metadata": upload.metadata,
            "created": upload.created.isoformat(), "expires": upload.expires.isoformat(), "result": upload.result}
    temporary = folder / f"info.{secrets.token_hex(4)}.tmp"
    temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, folder / "info.json")


def _from_json(upload_id: str, info: dict[str, Any]) -> Upload:
    try:
        return Upload(id=upload_id, owner=str(info["owner"]), length=int(info["length"]),
                      metadata={str(k): str(v) for k, v in info["metadata"].items()},
                      created=dt.datetime.fromisoformat(info["created"]),
                      expires=dt.datetime.fromisoformat(info["expires"]), result=info.get("result"))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise UploadError(404, UNKNOWN) from None
