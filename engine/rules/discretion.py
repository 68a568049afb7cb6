"""The 裁量基准 policy (《行政处罚法》第三十四条) as settings.json `discretion` gives it — pure, no model, no I/O.

The benchmarks themselves are rows of the model's decision table (engine/spiff/benchmarks.py reads and checks
them); this says which decision holds them, which holds the law's ranges, the case variable that names the
benchmark a case applies, and the benchmark that applies where no agency up the tree adopted one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ConfigurationError

DISCRETION_KEY = "discretion.benchmark"  # the agency setting (settings.json agency_settings)
# A benchmark's id as the model writes it in its table and an agency setting names it.
BENCHMARK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
OUTPUT_KEYS = ("id", "name", "min", "max", "law_min", "law_max", "law_basis")


@dataclass(frozen=True)
class DiscretionPolicy:
    benchmark: str  # in force where no agency up the tree adopted one
    decision: str
    statutory: str
    variable: str
    outputs: Mapping[str, str]
    probes: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    basis: str = ""
    basis_en: str = ""


def parse_discretion(data: Mapping[str, Any] | None) -> DiscretionPolicy | None:
    """settings.json `discretion`, or None for a province file written before agencies had benchmarks."""
    if data is None:
        return None
    try:
        outputs = {k: str(data["outputs"][k]) for k in OUTPUT_KEYS}
        probes = tuple(dict(p) for p in data.get("probes") or ({},))
        policy = DiscretionPolicy(benchmark=str(data["benchmark"]), decision=str(data["decision"]),
                                  statutory=str(data["statutory"]), variable=str(data["variable"]), outputs=outputs,
                                  probes=probes, basis=str(data.get("basis", "")), basis_en=str(data.get("basis_en", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"裁量基准配置有误 (settings.json discretion is malformed): {exc!r}") from exc
    if not BENCHMARK_ID.fullmatch(policy.benchmark) or not policy.variable.isidentifier():
        raise ConfigurationError("裁量基准配置有误 (discretion.benchmark must be a benchmark id, discretion.variable a "
                                 "variable name)")
    return policy


__all__ = ["BENCHMARK_ID", "DISCRETION_KEY", "DiscretionPolicy", "parse_discretion"]
