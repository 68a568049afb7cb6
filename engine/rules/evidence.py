"""What evidence files the agency accepts (workflows/settings.json `evidence`): the media types by family —
images, audio, video, PDF, office documents — and the largest file, each with its basis; and how long a file
staged for a step may wait for the step to be signed before it is collected.

Pure: the type itself is recognised from the file's bytes (engine/sniffing.py), never from its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigurationError
from engine.rules.confidential import CLASSES
from engine.rules.confidential import KEYWORD as CONFIDENTIAL

# The families a form may ask for (`x-evidence.accept` in a form schema); settings.json lists each one's types.
FAMILIES = ("image", "audio", "video", "pdf", "office")


@dataclass(frozen=True)
class Family:
    name: str
    label: str  # zh-CN, for messages
    media_types: frozenset[str]
    basis: str


@dataclass(frozen=True)
class EvidencePolicy:
    families: Mapping[str, Family]
    max_bytes: int
    max_bytes_basis: str
    staged_max_age: dt.timedelta
    staged_max_age_basis: str
    # The largest file an evidence bundle carries; a larger one travels as its digest with a note (issue 14).
    bundle_max_bytes: int = 100 << 20
    bundle_max_bytes_basis: str = ""
    # The largest bundle the auditor's page takes, and what of it the verifier may read into memory.
    bundle_upload_max_bytes: int = 2 << 30
    bundle_in_memory_max_bytes: int = 100 << 20

    def family_of(self, media_type: str) -> str | None:
        """The family `media_type` belongs to, or None: not accepted."""
        return next((f.name for f in self.families.values() if media_type in f.media_types), None)

    def accepted(self) -> frozenset[str]:
        return frozenset().union(*(f.media_types for f in self.families.values()))

    def too_large(self, size: int) -> str | None:
        """The refusal of a file of `size` bytes (HTTP 413), or None."""
        if size <= self.max_bytes:
            return None
        return (f"文件过大：{_size(size)}，上限 {_size(self.max_bytes)} (file too large: {size} bytes, "
                f"the limit is {self.max_bytes} bytes)")

    def not_accepted(self, media_type: str, name: str) -> str | None:
        """The refusal of a file whose content is `media_type` (HTTP 415), or None."""
        if self.family_of(media_type) is not None:
            return None
        kinds = "、".join(f.label for f in self.families.values())
        return (f"不接受此类文件：{name} 的内容为 {media_type or '未知类型'}，只接受{kinds} (file type not accepted: "
                f"the content of {name!r} is {media_type or 'unknown'}; accepted: "
                f"{', '.join(self.families)})")


def _size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


CAPTURE = frozenset({"environment", "user"})  # the HTML `capture` attribute: the rear or the front camera


def evidence_declaration_problem(spec: Any) -> str | None:
    """What is wrong with a form schema's `x-evidence` (None: absent or well formed). The form of a step that
    takes evidence declares it: {"title": …, "accept": [families], "capture": "environment" | "user",
    "x-confidential": class} — the last seals each file's name and note in the record (engine/rules/confidential.py)."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or not isinstance(spec.get("title"), str):
        return "x-evidence must be an object with a title"
    accept = spec.get("accept")
    if not isinstance(accept, list) or not accept or any(a not in FAMILIES for a in accept):
        return f"accept must list families among {', '.join(FAMILIES)}"
    if "capture" in spec and spec["capture"] not in CAPTURE:
        return f"capture must be one of {', '.join(sorted(CAPTURE))}"
    if CONFIDENTIAL in spec and spec[CONFIDENTIAL] not in CLASSES:
        return f"{CONFIDENTIAL} must be one of {', '.join(sorted(CLASSES))}"
    return None


FILE_KEYWORD = "x-evidence-file"  # on an integer property: it holds the id of one of the case's evidence files


def referenced_file_ids(schema: Mapping[str, Any] | None, data: Any) -> list[int]:
    """The evidence file ids the form data names in properties its schema marks `x-evidence-file` (followed
    into nested objects and the items of arrays, e.g. 证据登记's list, each item picking one of the case's
    files), in the order they appear."""
    found: list[int] = []
    _collect(schema or {}, data, found)
    return found


def _collect(node: Mapping[str, Any], value: Any, found: list[int]) -> None:
    if node.get(FILE_KEYWORD) is True:
        if isinstance(value, int) and not isinstance(value, bool):
            found.append(value)
        return
    items = node.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        for element in value:
            _collect(items, element, found)
        return
    if isinstance(value, Mapping):
        for name, prop in (node.get("properties") or {}).items():
            if isinstance(prop, Mapping) and name in value:
                _collect(prop, value[name], found)


def parse_evidence_policy(data: Mapping[str, Any]) -> EvidencePolicy:
    """settings.json `evidence`; ConfigurationError if a family is unknown or a value is out of range."""
    families = {}
    for name, value in data["families"].items():
        if name.startswith("$"):
            continue
        if name not in FAMILIES:
            raise ConfigurationError(f"未知的证据文件类别 (evidence.families: unknown family {name!r}; "
                                     f"known: {', '.join(FAMILIES)})")
        families[name] = Family(name=name, label=str(value["label"]),
                                media_types=frozenset(str(t) for t in value["media_types"]), basis=str(value["basis"]))
    max_bytes = int(data["max_bytes"]["value"])
    days = float(data["staged_max_age_days"]["value"])
    if not families or max_bytes < 1 or days <= 0:
        raise ConfigurationError("证据文件配置有误 (evidence: at least one family, max_bytes >= 1, "
                                 "staged_max_age_days > 0)")
    bundle_max = int(data["bundle_max_file_bytes"]["value"])
    if bundle_max < 0:
        raise ConfigurationError("证据包单个文件上限不能为负 (evidence.bundle_max_file_bytes must be >= 0)")
    upload_max = int(data["bundle_upload_max_bytes"]["value"])
    in_memory = int(data["bundle_in_memory_max_bytes"]["value"])
    if upload_max < max(bundle_max, 1) or in_memory < 1:
        raise ConfigurationError("证据包上传上限须不小于单个文件上限 (evidence.bundle_upload_max_bytes must be >= "
                                 "bundle_max_file_bytes, bundle_in_memory_max_bytes >= 1)")
    return EvidencePolicy(families=families, max_bytes=max_bytes, max_bytes_basis=str(data["max_bytes"]["basis"]),
                          staged_max_age=dt.timedelta(days=days),
                          staged_max_age_basis=str(data["staged_max_age_days"]["basis"]),
                          bundle_max_bytes=bundle_max,
                          bundle_max_bytes_basis=str(data["bundle_max_file_bytes"]["basis"]),
                          bundle_upload_max_bytes=upload_max, bundle_in_memory_max_bytes=in_memory)


__all__ = ["CAPTURE", "FAMILIES", "FILE_KEYWORD", "referenced_file_ids", "evidence_declaration_problem", "EvidencePolicy", "Family", "parse_evidence_policy"]
