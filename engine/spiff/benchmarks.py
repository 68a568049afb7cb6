"""The 裁量基准 a model publishes, and the check that every one of them stays within the law's ranges.

《行政处罚法》第三十四条 lets an agency lay down and publish its own benchmark; the benchmark refines the range the
law sets, it cannot widen it. The benchmarks are rows of one decision table of the model (settings.json
`discretion.decision`, its benchmark column read from the case variable `discretion.variable`), the law's ranges
another (`discretion.statutory`). A row outside the law's range is refused when a new model version is stored
(`check_model`, engine/usecases/definitions.py: nothing is stored) and when an agency adopts the benchmark (the
setting is not written), naming the provision whose range it breaks. Reading a model does not check it: a version
stored before loads whatever today's settings say, as its cases must.

The rows' bounds may be formulas (five to twenty times the unlawful income), so the check runs both tables, with
the model's own DMN engine, over every violation and 情节 the tables name and each of `discretion.probes`.
"""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict
from engine.rules.agency_overrides import setting_value
from engine.rules.carry import in_force_fields
from engine.rules.discretion import DISCRETION_KEY, DiscretionPolicy
from engine.spiff.validation import DefinitionError, parse_xml

if TYPE_CHECKING:
    from engine.rules.settings import Settings
    from engine.rules.workdays import WorkingCalendar
    from engine.spiff.definitions import LoadedDefinition

# An input column reads a variable by its name, or with `var('name', default)`.
_VARIABLE = re.compile(r"""\s*(?:([A-Za-z_]\w*)|var\(\s*'([A-Za-z_]\w*)'\s*(?:,[^)]*)?\))\s*""")
_CHECK_CLOCK = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)  # the rows read no time; the engine needs a clock


class BenchmarkOutsideTheLaw(ValueError):
    """A benchmark's row gives a range the law does not allow (or cannot be evaluated); `basis`: the provision."""

    def __init__(self, message: str, basis: str = "") -> None:
        super().__init__(message)
        self.basis = basis


@dataclass(frozen=True)
class _Table:
    columns: tuple[tuple[str, tuple[str, ...]], ...]  # (variable, the literal strings its rules name)
    entries: tuple[tuple[Any, ...], ...]  # each rule's input entries: a literal string, else None (any value)
    rows: tuple[Mapping[str, Any], ...]  # each rule's literal outputs by output name


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None


def _table(definition: LoadedDefinition, decision_id: str) -> _Table | None:
    """The decision table `decision_id` of the model's DMN files, parsed once per model version: a step that
    records the benchmark in force reads the model's list of them on every completion."""
    key = (definition.sha256, decision_id)
    kept = _TABLES.get(key)
    if kept is not None and kept[0] is definition.files:  # the same files, not another object under the digest
        return kept[1]
    table = _parse_table(definition.files, decision_id)
    if len(_TABLES) >= _TABLES_MAX:  # versions long replaced: parsed again if ever read
        _TABLES.clear()
    _TABLES[key] = (definition.files, table)
    return table


# Parsed decision tables by (model version's sha256, decision id); a platform runs a few model versions.
_TABLES: dict[tuple[str, str], tuple[Mapping[str, bytes], _Table | None]] = {}
_TABLES_MAX = 64


def _parse_table(files: Mapping[str, bytes], decision_id: str) -> _Table | None:
    for name, content in sorted(files.items()):
        if not name.endswith(".dmn"):
            continue
        root = parse_xml(name, content)
        decision = next((d for d in root.iter("{*}decision") if d.get("id") == decision_id), None)
        if decision is None:
            continue
        table = next(decision.iter("{*}decisionTable"))
        inputs = ["".join(i.itertext()).strip() for i in table.iter("{*}inputExpression")]
        outputs = [o.get("name") for o in table.iter("{*}output")]
        rules = table.findall("{*}rule")
        entries = tuple(tuple(v if isinstance(v := _literal("".join(e.itertext())), str) else None
                              for e in r.findall("{*}inputEntry")) for r in rules)
        columns = []
        for index, expression in enumerate(inputs):
            match = _VARIABLE.fullmatch(expression)
            variable = (match.group(1) or match.group(2)) if match else ""
            columns.append((variable, tuple(sorted({e[index] for e in entries if e[index] is not None}))))
        rows = tuple({out: _literal("".join(e.itertext())) for out, e in zip(outputs, r.findall("{*}outputEntry"),
                                                                           strict=False)} for r in rules)
        return _Table(tuple(columns), entries, rows)
    return None


def published(definition: LoadedDefinition, policy: DiscretionPolicy) -> dict[str, str]:
    """The benchmarks the model's table publishes: id -> published name, in the table's order."""
    table = _table(definition, policy.decision)
    if table is None:
        return {}
    out: dict[str, str] = {}
    for row in table.rows:
        ident, name = row.get(policy.outputs["id"]), row.get(policy.outputs["name"])
        if isinstance(ident, str) and ident not in out:
            out[ident] = name if isinstance(name, str) else ident
    return out


def _cases(benchmarks: _Table, law: _Table, policy: DiscretionPolicy, ident: str) -> Iterator[dict[str, Any]]:
    """The inputs that reach each rule of benchmark `ident` (of the default's rules, for the default), with each
    probe: a rule's literal entries as they are, its '-' entries as every value the two tables name there."""
    named: dict[str, set[str]] = {}
    for variable, literals in (*benchmarks.columns, *law.columns):
        if not variable:
            raise BenchmarkOutsideTheLaw("裁量基准表的输入列须读取一个变量 (each input column of the benchmark tables "
                                         "must read one variable)")
        named.setdefault(variable, set()).update(literals)
    variables = [v for v, _ in benchmarks.columns]
    column = variables.index(policy.variable) if policy.variable in variables else None
    own = [e for e in benchmarks.entries if column is not None and e[column] == ident]
    rules = own or [e for e in benchmarks.entries if column is None or e[column] is None]
    seen: set[tuple[Any, ...]] = set()
    for entry in rules:
        choices = [[value] if value is not None else sorted(named[variable]) or [None]
                   for variable, value in zip(variables, entry, strict=True)]
        for combination in itertools.product(*choices):
            if combination in seen:
                continue
            seen.add(combination)
            for probe in policy.probes:
                yield {**dict(zip(variables, combination, strict=True)), **probe}


def check_within_law(definition: LoadedDefinition, policy: DiscretionPolicy, *, settings: Settings,
                     calendar: WorkingCalendar, only: str | None = None) -> None:
    """Every row of each published benchmark (or of `only`) within the law's range; BenchmarkOutsideTheLaw else."""
    from engine.spiff.decisions import DecisionUnavailable, decide

    benchmarks, statutory = _table(definition, policy.decision), _table(definition, policy.statutory)
    if benchmarks is None or statutory is None:
        return  # a model without the tables (an older or a test model) publishes no benchmark to check
    names = published(definition, policy)
    out = policy.outputs
    laws: dict[str, dict[str, Any]] = {}  # the law's range does not depend on the benchmark: once per input
    for ident in [only] if only is not None else names:
        for data in _cases(benchmarks, statutory, policy, ident):
            data = {**data, policy.variable: ident}
            try:
                key = repr(sorted((k, v) for k, v in data.items() if k != policy.variable))
                if key not in laws:
                    laws[key] = decide(definition, policy.statutory, data, clock=lambda: _CHECK_CLOCK,
                                       settings=settings, calendar=calendar)
                law = laws[key]
                if not law:
                    continue  # the law sets no range for this violation: nothing to hold the row to
                got = decide(definition, policy.decision, data, clock=lambda: _CHECK_CLOCK, settings=settings,
                             calendar=calendar)
            except DecisionUnavailable as exc:
                raise BenchmarkOutsideTheLaw(f"裁量基准 {ident} 无法核对 (cannot be checked against the law): {exc}") from exc
            if got.get(out["id"]) != ident:
                continue  # this benchmark has no row for it: the default's row applies, checked as the default
            low, high = float(got[out["min"]]), float(got[out["max"]])
            law_low, law_high = float(law[out["law_min"]]), float(law[out["law_max"]])
            if not law_low <= low <= high <= law_high:
                basis = str(law.get(out["law_basis"]) or "")
                shown = ", ".join(f"{k}={v}" for k, v in sorted(data.items()) if k != policy.variable)
                raise BenchmarkOutsideTheLaw(
                    f"裁量基准 {ident}（{names.get(ident, ident)}）对 {shown} 的幅度 {low:g}–{high:g} 元超出法定幅度 "
                    f"{law_low:g}–{law_high:g} 元（{basis}；{policy.basis}：裁量基准在法定幅度内细化） (the benchmark's "
                    f"range {low:g}-{high:g} lies outside the statutory range {law_low:g}-{law_high:g}: {basis})", basis)


def check_model(definition: LoadedDefinition, *, settings: Settings, calendar: WorkingCalendar) -> None:
    """A new model version: every 裁量基准 it publishes within the law's ranges, under the settings it is stored with
    (none to check without `discretion`). DefinitionError naming the benchmarks' DMN file and decision else, so
    the refusal reads as the model's other faults do."""
    policy = settings.discretion
    if policy is None:
        return
    try:
        check_within_law(definition, policy, settings=settings, calendar=calendar)
    except BenchmarkOutsideTheLaw as exc:
        raise DefinitionError(_decision_file(definition, policy.decision), None, policy.decision, str(exc)) from exc


def _decision_file(definition: LoadedDefinition, decision_id: str) -> str:
    return next((n for n, c in sorted(definition.files.items())
                 if n.endswith(".dmn") and f'id="{decision_id}"'.encode() in c), "(definition)")


def in_force(definition: LoadedDefinition, settings: Settings, schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values the step's form records as in force for the case's agency (`x-in-force`, engine/rules/carry.py),
    `settings` being the case's (engine/agencies.py). A 裁量基准 the case's model version does not publish cannot be
    applied by it: Conflict, rather than the default's rows under the agency's name."""
    values = {}
    for field, key in in_force_fields(schema).items():
        value = setting_value(settings, key)
        policy = settings.discretion
        if key == DISCRETION_KEY and policy is not None and value not in published(definition, policy):
            raise Conflict(f"本案的流程版本未收录本机构适用的裁量基准 {value}（{policy.basis}），请管理员核对机构设置 "
                           f"(the case's model version does not publish the benchmark {value} its agency applies)")
        values[field] = value
    return values


__all__ = ["BenchmarkOutsideTheLaw", "check_model", "check_within_law", "in_force", "published"]
