"""A plain tus 1.0 client over http.client for the upload bench (bench/evidence.py) and the protocol tests: a
logged-in session (cookie and CSRF token as the workbench's own page has them), creation, chunked PATCHes
streamed from any `read(n)` source, and a generated stream of any length that never exists in memory or on disk.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
BLOCK = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
UPLOAD_ADDRESS = re.compile(r"/uploads/[0-9a-f]{32}")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class WebSession:
    """One user's session against a served workbench at `base` (http://host:port)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    # Where an upload's own address (/uploads/<id>) goes, if not to `base`: the upload receiver's (web/receiver.py),
    # as nginx routes it in a deployment.
    receiver: str | None = None

    def _connection(self, path: str) -> http.client.HTTPConnection:
        routed = self.receiver if self.receiver and UPLOAD_ADDRESS.fullmatch(path) else self.base
        parts = urllib.parse.urlsplit(routed)
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=600, blocksize=BLOCK)

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None,
                length: int | None = None) -> Answer:
        """One request on a connection of its own; `body` bytes or a file-like object read in blocks."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if length is not None:
            sent["Content-Length"] = str(length)
        connection = self._connection(path)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            connection.close()

    def token_from(self, path: str) -> str:
        page = self.request("GET", path).body.decode()
        match = CSRF_FIELD.search(page)
        if not match:
            raise AssertionError(f"no CSRF token on {path}")
        self.csrf = match.group(1)
        return self.csrf

    def log_in(self, user: str, password: str) -> None:
        token = self.token_from("/login")
        form = urllib.parse.urlencode({"user_id": user, "password": password, "csrf_token": token})
        answer = self.request("POST", "/login", body=form.encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        if answer.status != 302:
            raise AssertionError(f"login of {user} failed: {answer.status}")
        self.token_from("/tasks")  # the token of the logged-in session (a login starts a fresh one)

    # -- tus ---------------------------------------------------------------------------------------------------

    def create(self, length: int, metadata: dict[str, str], *, csrf: bool = True,
               extra: dict[str, str] | None = None) -> Answer:
        headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": encode_metadata(metadata),
                   **({"X-CSRF-Token": self.csrf} if csrf else {}), **(extra or {})}
        return self.request("POST", "/uploads", headers=headers, body=b"")

    def patch(self, location: str, offset: int, body: Any, length: int, *, csrf: bool = True,
              extra: dict[str, str] | None = None) -> Answer:
        headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                   **({"X-CSRF-Token": self.csrf} if csrf else {}), **(extra or {})}
        return self.request("PATCH", location, headers=headers, body=body, length=length)

    def head(self, location: str) -> Answer:
        return self.request("HEAD", location, headers=dict(TUS))

    def upload(self, source: Callable[[int], bytes], length: int, metadata: dict[str, str], *,
               chunk: int) -> tuple[str, Answer]:
        """Create an upload and send `length` bytes read from `source` in PATCHes of `chunk` bytes; the upload's
        address and the last PATCH's answer."""
        created = self.create(length, metadata)
        if created.status != 201:
            raise AssertionError(f"creation refused: {created.status} {created.body[:300]!r}")
        location = urllib.parse.urlsplit(created.header("Location") or "").path
        offset = 0
        answer = created
        while offset < length:
            size = min(chunk, length - offset)
            answer = self.patch(location, offset, Part(source, size), size)
            if answer.status != 204:
                return location, answer
            offset = int(answer.header("Upload-Offset") or 0)
        return location, answer


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())


class Part:
    """`size` bytes of `source` as a file-like body: http.client reads it in blocks."""

    def __init__(self, source: Callable[[int], bytes], size: int) -> None:
        self.source = source
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        block = self.source(self.left if n < 0 else min(n, self.left))
        self.left -= len(block)
        return block


# An MP4 file's first box (ftyp, brand mp42) and the header of one large media-data box: what a recorder's file
# starts with, so the content is recognised as video/mp4 whatever follows.
_FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


class GeneratedVideo:
    """`length` bytes that read as an MP4 file (video/mp4), made on the fly from `seed`: distinct seeds give
    distinct files (distinct digests); `sha256` is the digest of what has been read so far."""

    def __init__(self, length: int, seed: int) -> None:
        self.length = length
        self.position = 0
        self._hash = hashlib.sha256()
        header = _FTYP + (length - len(_FTYP)).to_bytes(4, "big") + b"mdat" if length < 1 << 32 else \
            _FTYP + b"\x00\x00\x00\x01mdat" + (length - len(_FTYP)).to_bytes(8, "big")
        self._head = header
        self._pattern = hashlib.shake_256(seed.to_bytes(8, "big")).digest(BLOCK)

    def read(self, n: int) -> bytes:
        n = min(n, self.length - self.position)
        if n <= 0:
            return b""
        out = bytearray()
        while len(out) < n:
            at = self.position + len(out)
            if at < len(self._head):
                out += self._head[at:at + n - len(out)]
            else:
                start = (at - len(self._head)) % BLOCK
                out += self._pattern[start:start + n - len(out)]
        self.position += n
        data = bytes(out)
        self._hash.update(data)
        return data

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()
