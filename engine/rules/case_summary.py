"""The case summary (案情摘要) a judgement is signed over, as the model declares it — pure rules, no I/O.

Nobody should sign a judgement two clicks away from its material: the panel's vote (合议), the legal review
(法制审核, 《行政处罚法》第五十八条) and the head's decision (第五十七条) open with the case as the signed steps
state it. Which pages show it and what goes into it is said by the forms of workflows/forms/, not by step ids:
- `"x-case-summary": true` on a form: its task page opens with the summary;
- `"x-summary": "<section>"` on a field: the field's signed value is shown in that section (SECTIONS);
  the `vote` section is never listed: it is tallied, and only once the round has closed;
- `"x-benchmark": {"decision", "min", "max"[, "basis"]}` on a fine field: the DMN decision whose outputs
  `min`/`max` are the 裁量基准 range the fine is measured against (`basis`: the output that cites the rule).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SHOWS = "x-case-summary"
SECTION = "x-summary"
BENCHMARK = "x-benchmark"
VOTE = "vote"
# In the order a reader of the file meets them: 事实, 证据, 定性与依据, 拟处罚与裁量, 陈述申辩/听证, 合议, 法制审核.
SECTIONS = ("facts", "evidence", "basis", "measure", "party", VOTE, "legal")


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a fine field's 裁量基准 range comes from: a DMN decision and the names of its outputs."""

    decision: str
    min: str
    max: str
    basis: str | None = None


def shows_summary(schema: Mapping[str, Any] | None) -> bool:
    """Whether the task page of a step with this form opens with the case summary."""
    return bool(schema and schema.get(SHOWS) is True)


def summary_fields(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's fields that feed the summary: field key -> section, in the form's order."""
    props = (schema or {}).get("properties") or {}
    return {k: v[SECTION] for k, v in props.items() if isinstance(v, dict) and v.get(SECTION) in SECTIONS}


def benchmark_fields(schema: Mapping[str, Any] | None) -> dict[str, BenchmarkSpec]:
    """The form's fine fields measured against a 裁量基准: field key -> where the range comes from."""
    props = (schema or {}).get("properties") or {}
    return {k: benchmark_spec(v[BENCHMARK]) for k, v in props.items() if isinstance(v, dict) and BENCHMARK in v}


def benchmark_spec(value: Any) -> BenchmarkSpec:
    """An `x-benchmark` value as a spec; ValueError when it cannot name a range."""
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k] for k in ("decision", "min", "max")):
        raise ValueError(f"{BENCHMARK} 须为 {{decision, min, max[, basis]}} (must name a decision and its min/max outputs)")
    basis = value.get("basis")
    if basis is not None and not (isinstance(basis, str) and basis):
        raise ValueError(f"{BENCHMARK}.basis 须为输出名 (must name an output)")
    return BenchmarkSpec(value["decision"], value["min"], value["max"], basis)


def check_summary_keywords(schema: Mapping[str, Any]) -> None:
    """Refuse (ValueError) summary keywords that cannot mean anything: a typo would silently show nothing."""
    if SHOWS in schema and schema[SHOWS] is not True:
        raise ValueError(f"{SHOWS} 只能为 true (must be true)")
    for key, prop in ((schema.get("properties") or {}).items()):
        if not isinstance(prop, dict):
            continue
        if SECTION in prop and prop[SECTION] not in SECTIONS:
            raise ValueError(f"/properties/{key}: {SECTION} 未知的栏目 (unknown section) {prop[SECTION]!r}; "
                             f"可用 (known): {', '.join(SECTIONS)}")
        if BENCHMARK in prop:
            if prop.get("type") not in ("number", "integer"):
                raise ValueError(f"/properties/{key}: {BENCHMARK} 只用于数值字段 (only on a number field)")
            benchmark_spec(prop[BENCHMARK])


@dataclass(frozen=True)
class Tally:
    """A closed 合议 round counted: each option's votes (most first), and the option more than half chose."""

    counts: tuple[tuple[Any, int], ...]
    decision: Any | None  # None: no absolute majority (the panel votes again)
    size: int


def tally(votes: Sequence[Any]) -> Tally:
    """The votes of one round counted by the rule of `majority()` in the model: more than half of the votes."""
    counts = Counter(votes).most_common()
    decision = next((option for option, n in counts if n * 2 > len(votes)), None)
    return Tally(tuple(counts), decision, len(votes))


def last_round(votes: Sequence[Any], panel_size: int) -> Sequence[Any]:
    """The votes of the last round, of a step's votes in the order they were signed: a round that found no
    majority is voted again by the same panel (deliberation.bpmn), whose size the appointment gate holds to
    settings.json `panel.size`."""
    return votes[-panel_size:] if panel_size > 0 else votes


def within(fine: float | None, low: float, high: float) -> bool | None:
    """Whether the fine lies in the 裁量基准 range (None: no fine to measure)."""
    return None if fine is None else low <= fine <= high


__all__ = ["BENCHMARK", "SECTION", "SECTIONS", "SHOWS", "VOTE", "BenchmarkSpec", "Tally", "benchmark_fields",
           "benchmark_spec", "check_summary_keywords", "last_round", "shows_summary", "summary_fields", "tally",
           "within"]
