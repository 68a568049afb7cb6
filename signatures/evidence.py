"""Evidence files a step record lists (`form_data._evidence_files`, docs/evidence-bundle.md §1 and §5a): reading the
list, naming each file inside a bundle, and the per-step `evidence` check.

The record's signature covers each file's SHA-256 and size; the bytes themselves live elsewhere — in the agency's
blob store online, inside the bundle (or, above the bundle's size limit or withheld on need-to-know, named only
by digest with a note saying where the original is kept) offline. The check is the same both ways: the caller
says what it found for each listed file (`Found`), and the check compares that with the signed digest and size.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from signatures.report import Check, CheckResult, failed, not_checked, passed

EVIDENCE_KEY = "_evidence_files"  # the engine's member of form_data listing the step's files
EVIDENCE_DIR = "evidence/"
CHUNK = 1 << 20
_MAX_COMPONENT_BYTES = 120  # a file name part inside the zip, in UTF-8 (file systems allow 255 bytes)
_UNSAFE = re.compile(r'[\\/:*?"<>|]')


@dataclass(frozen=True)
class EvidenceFile:
    """One file as a signed record lists it."""

    id: int
    sha256: str
    size: int
    name: str
    media_type: str = ""


@dataclass(frozen=True)
class Found:
    """What a verifier found of a listed file. `digest`: the SHA-256 of the bytes it read (None: not hashed);
    `size`: their length (None: unknown); `left_out`: the file is not there on purpose, and why (a bundle's
    seal-signed note: above the size limit, or withheld on need-to-know) — then digest and size are None."""

    digest: str | None = None
    size: int | None = None
    left_out: str = ""


# (record seq, the file as listed) -> what was found; None: not there, and no one says why.
EvidenceLookup = Callable[[int, EvidenceFile], Found | None]


def listed_files(form_data: Mapping[str, Any]) -> list[EvidenceFile] | None:
    """The files a record's form lists ([] when it lists none); None when `_evidence_files` is malformed."""
    items = form_data.get(EVIDENCE_KEY)
    if items is None:
        return []
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        try:
            sha, size = item["sha256"], item["size"]
            if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)) or not isinstance(size, int) \
                    or isinstance(size, bool):
                return None
            out.append(EvidenceFile(id=int(item["id"]), sha256=sha, size=size, name=str(item.get("name", "")),
                                    media_type=str(item.get("media_type", ""))))
        except (KeyError, TypeError, ValueError):
            return None
    return out


def path_component(text: str, limit: int = _MAX_COMPONENT_BYTES) -> str:
    """`text` as one safe path component: no separators, control characters or leading dots; at most `limit`
    bytes of UTF-8, the extension kept."""
    text = "".join(c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c)[0] != "C")
    text = _UNSAFE.sub("_", text).strip().lstrip(".") or "file"
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = text, ""
    suffix = f".{ext}" if ext else ""
    while len((stem + suffix).encode()) > limit:
        stem = stem[:-1]
    return (stem or "file") + suffix


def member_path(seq: int, task_name: str, file: EvidenceFile) -> str:
    """Where a bundle carries a file: by step and the name it was added under, e.g.
    `evidence/0003-现场检查/12-门口.jpg` (12: the file's number in the case, which keeps two files of one name apart)."""
    return f"{EVIDENCE_DIR}{seq:04d}-{path_component(task_name, 60)}/{file.id}-{path_component(file.name)}"


def hash_stream(stream: IO[bytes], sink: IO[bytes] | None = None) -> tuple[str, int]:
    """SHA-256 (hex) and length of a stream, read a megabyte at a time (and copied into `sink`, when given)."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _label(file: EvidenceFile) -> str:
    return f"file {file.name!r} (no. {file.id}, sha256 {file.sha256[:16]}…)"


def check_evidence(seq: int, task_name: str, form_data: Mapping[str, Any],
                   lookup: EvidenceLookup | None) -> CheckResult | None:
    """The step's `evidence` check; None when the record lists no files. Failed, naming the step and the file,
    when a listed file is missing with no note saying why, or its bytes (or size) differ from what was signed;
    not_checked when files were left out on purpose (the notes are the reason) or could not be looked at."""
    files = listed_files(form_data)
    step = f"step {seq} {task_name}"
    if files is None:
        return failed(Check.EVIDENCE, f"{step}: the record's {EVIDENCE_KEY} is malformed")
    if not files:
        return None
    if lookup is None:
        return not_checked(Check.EVIDENCE, f"{step}: the bytes of its {len(files)} evidence files were not supplied")
    hashed, present, left_out = 0, 0, []
    for file in files:
        found = lookup(seq, file)
        if found is None:
            return failed(Check.EVIDENCE, f"{step}: {_label(file)} is missing")
        if found.left_out:
            left_out.append(f"{_label(file)}: {found.left_out}")
            continue
        if found.size is not None and found.size != file.size:
            return failed(Check.EVIDENCE, f"{step}: {_label(file)} was altered: {found.size} bytes, the record "
                                          f"signs {file.size}")
        if found.digest is not None and found.digest != file.sha256:
            return failed(Check.EVIDENCE, f"{step}: {_label(file)} was altered: its bytes do not match the signed "
                                          "SHA-256")
        if found.digest is not None:
            hashed += 1
        else:
            present += 1
    done = [f"{hashed} files re-hashed"] if hashed else []
    done += [f"{present} files present with their signed size (not re-hashed)"] if present else []
    if left_out:
        return not_checked(Check.EVIDENCE, "; ".join([*done, f"not carried: {'; '.join(left_out)}"]))
    return passed(Check.EVIDENCE, "; ".join(done))


__all__ = ["CHUNK", "EVIDENCE_DIR", "EVIDENCE_KEY", "EvidenceFile", "EvidenceLookup", "Found", "check_evidence",
           "hash_stream", "listed_files", "member_path"]
