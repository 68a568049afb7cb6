"""The restricted script environment: BPMN/DMN expressions and scripts without `eval`/`exec`.

Definitions can be uploaded by an administrator, so the text of a model is untrusted input. SpiffWorkflow's
default environment runs it with plain `eval`/`exec`; here expressions are evaluated by simpleeval
(`EvalWithCompoundTypes`, attribute access limited to a few harmless methods) and scripts are parsed with
`ast` into simple statements (assignments, augmented assignments and `if` blocks) whose expressions go
through the same evaluator. `check_expression` / `check_script` run at load time so a bad model is refused
with its file and element before any case runs on it; the evaluator re-checks at run time.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.rules.deadlines import due_at, warn_at
from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar

MAX_SOURCE = 4000
ALLOWED_METHODS: dict[type, set[str]] = {
    dict: {"get", "keys", "values", "items"},
    str: {"startswith", "endswith", "strip", "lower", "upper"},
    list: {"count", "index"},
    tuple: {"count", "index"},
}
_METHOD_NAMES = set().union(*ALLOWED_METHODS.values())
# Node types no model needs and that open doors: code objects, iteration bombs, imports, definitions.
_FORBIDDEN_NODES = (
    ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Import, ast.ImportFrom,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.For, ast.While, ast.Try, ast.Raise,
    ast.Global, ast.Nonlocal, ast.Delete, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Starred,
)
# Functions a model may call (RestrictedEnvironment._functions plus `var`); anything else is refused at load.
CALLABLE_NAMES = {"due", "warn", "now", "before", "days_between", "end_of_day", "surcharge", "majority", "var", "len",
                  "min", "max", "sum", "round", "int", "float", "str", "bool", "abs", "sorted", "any", "all"}
# Names the engine puts into task data itself (the lead's complete_task adds the actor as `_actor`).
_ALLOWED_PRIVATE_NAMES = {"_actor"}


class ScriptRejected(ValueError):
    """A model expression or script uses something the restricted environment does not allow."""


def _check_tree(tree: ast.AST, source: str) -> None:
    if len(source) > MAX_SOURCE:
        raise ScriptRejected(f"表达式过长 (longer than {MAX_SOURCE} characters)")
    for node in ast.walk(tree):
        if isinstance(node, _FORBIDDEN_NODES):
            raise ScriptRejected(f"不允许的语法 (not allowed): {type(node).__name__}")
        if isinstance(node, ast.Attribute) and node.attr not in _METHOD_NAMES:
            raise ScriptRejected(f"不允许访问属性 (attribute not allowed): .{node.attr}")
        if isinstance(node, ast.Name) and node.id.startswith("_") and node.id not in _ALLOWED_PRIVATE_NAMES:
            raise ScriptRejected(f"不允许的名称 (name not allowed): {node.id}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in CALLABLE_NAMES:
            raise ScriptRejected(f"不允许调用的函数 (function not allowed): {node.func.id}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and not (
            isinstance(node.right, ast.Constant) and isinstance(node.right.value, int) and node.right.value <= 64
        ):
            raise ScriptRejected("乘方的指数必须是不大于64的常数 (exponent must be a constant <= 64)")


@lru_cache(maxsize=4096)
def parse_expression(source: str) -> ast.expr:
    """Parse and check one expression (cached: the same model text is evaluated for every case)."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ScriptRejected(f"表达式语法错误 (syntax error): {exc.msg}") from exc
    _check_tree(tree, source)
    return tree.body


@lru_cache(maxsize=1024)
def parse_script(source: str) -> tuple[ast.stmt, ...]:
    """Parse and check a script: only assignments, augmented assignments, `if` blocks and `pass`."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ScriptRejected(f"脚本语法错误 (syntax error) line {exc.lineno}: {exc.msg}") from exc
    _check_tree(tree, source)
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, ast.Assign | ast.AugAssign | ast.If | ast.Pass):
            raise ScriptRejected(f"脚本只允许赋值和 if 语句 (only assignments and if), line {node.lineno}: "
                                 f"{type(node).__name__}")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Name | ast.Subscript):
                    raise ScriptRejected(f"只能给变量或下标赋值 (assign to names or subscripts), line {node.lineno}")
    return tuple(tree.body)


def check_expression(source: str) -> None:
    parse_expression(source)


def check_script(source: str) -> None:
    parse_script(source)


def majority(ballots: list[Mapping[str, Any]]) -> dict[str, Any]:
    """合议: the option more than half of the members voted for; 'none' when no option has a majority.

    Dissenting ballots are returned whole so the 合议记录 keeps them (不同意见应当如实记录).
    `fine` is the panel's fine, decided by majority like the outcome: the highest amount more than half of the
    members suggested at least (a ballot for another option than the decision counts as no fine) — the lower
    median; None without a majority. The notice and the decision start from it (engine/rules/carry.py).
    """
    votes = [b.get("vote") for b in ballots]
    counts = Counter(votes)
    decision = "none"
    for option, count in counts.items():
        if count * 2 > len(votes):
            decision = str(option)
    dissent = [dict(b) for b in ballots if b.get("vote") != decision]
    return {"decision": decision, "counts": dict(counts), "dissent": dissent, "size": len(votes),
            "fine": _panel_fine(ballots, decision)}


def _panel_fine(ballots: list[Mapping[str, Any]], decision: str) -> float | None:
    if decision == "none" or not ballots:
        return None
    fines = sorted(_amount(b.get("suggested_fine")) if b.get("vote") == decision else 0.0 for b in ballots)
    fine = fines[(len(fines) - 1) // 2]  # more than half of the ballots suggested this much or more
    return int(fine) if fine.is_integer() else fine


def _amount(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else 0.0


def _moment(value: str | dt.datetime) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"时间必须带时区 (timestamp needs a timezone): {value}")
    return moment


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """simpleeval for expressions; a small statement interpreter for scripts."""

    def __init__(self, clock: Callable[[], dt.datetime], settings: Settings, calendar: WorkingCalendar) -> None:
        super().__init__({})
        self.clock = clock
        self.settings = settings
        self.calendar = calendar
        self.last_deadline: str | None = None
        self._evaluator = EvalWithCompoundTypes(functions=self._functions(), names={},
                                                allowed_attrs=ALLOWED_METHODS)

    # -- functions a model may call
    def _functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "due": self.due, "warn": self.warn, "now": self.now, "before": self.before,
            "days_between": self.days_between, "end_of_day": self.end_of_day, "surcharge": surcharge, "majority": majority,
            "len": len, "min": min, "max": max, "sum": sum, "round": round, "int": int, "float": float,
            "str": str, "bool": bool, "abs": abs, "sorted": sorted, "any": any, "all": all,
        }

    def now(self) -> str:
        return self.clock().astimezone(dt.UTC).isoformat()

    def due(self, limit_id: str, start: str | None = None) -> str:
        """The moment the statutory time limit `limit_id` runs out (from `start`, default now)."""
        begin = _moment(start) if start else self.clock()
        value = due_at(limit_id, begin, self.settings, self.calendar).isoformat()
        self.last_deadline = value
        return value

    def warn(self, limit_id: str, start: str | None = None) -> str:
        """When a step guarded by `limit_id` is soon due (督办); records the deadline itself for the task."""
        begin = _moment(start) if start else self.clock()
        self.last_deadline = due_at(limit_id, begin, self.settings, self.calendar).isoformat()
        return warn_at(limit_id, begin, self.settings, self.calendar).isoformat()

    @staticmethod
    def before(a: str, b: str) -> bool:
        return _moment(a) < _moment(b)

    def days_between(self, a: str, b: str) -> int:
        """Calendar days from a to b in the agency's local time (行政强制法 periods over ten days are calendar
        days)."""
        return (self.calendar.local_date(_moment(b)) - self.calendar.local_date(_moment(a))).days

    def end_of_day(self, day: str) -> str:
        """The last second of the agency's local `day` (YYYY-MM-DD): a deadline a person set as a date (the
        supervisor's 办结期限), which runs out when that day ends, not when it begins."""
        value = self.calendar.end_of_day(dt.date.fromisoformat(str(day)[:10])).isoformat()
        self.last_deadline = value
        return value

    # -- spiff's environment interface
    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        names = dict(context)
        if external_context:
            names.update(external_context)
        return self._eval(parse_expression(expression), expression, names)

    def _eval(self, node: ast.expr, source: str, names: dict[str, Any]) -> Any:
        ev = self._evaluator
        ev.names = names
        ev.functions["var"] = lambda name, default=None: names.get(name, default)
        try:
            return ev.eval(source, previously_parsed=node)
        except InvalidExpression as exc:
            raise ScriptRejected(str(exc)) from exc
        finally:
            ev.names = {}

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        names = context
        if external_context:
            names = {**context, **external_context}
        self._run(parse_script(script), script, names, context)
        return True

    def _run(self, body: tuple[ast.stmt, ...] | list[ast.stmt], source: str, names: dict[str, Any],
             context: dict[str, Any]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.If):
                branch = stmt.body if self._eval(stmt.test, source, names) else stmt.orelse
                self._run(branch, source, names, context)
                continue
            if isinstance(stmt, ast.AugAssign):
                current = self._eval(_as_load(stmt.target), source, names)
                value = self._eval(ast.BinOp(left=ast.Constant(current), op=stmt.op, right=stmt.value), source, names)
                targets = [stmt.target]
            else:
                assert isinstance(stmt, ast.Assign)
                value = self._eval(stmt.value, source, names)
                targets = stmt.targets
            for target in targets:
                self._assign(target, value, source, names, context)

    def _assign(self, target: ast.expr, value: Any, source: str, names: dict[str, Any],
                context: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            context[target.id] = value
            names[target.id] = value
            return
        assert isinstance(target, ast.Subscript)
        container = self._eval(target.value, source, names)
        if not isinstance(container, dict | list):
            raise ScriptRejected("只能给字典或列表的元素赋值 (subscript assignment needs a dict or list)")
        container[self._eval(target.slice, source, names)] = value


def _as_load(target: ast.expr) -> ast.expr:
    node = ast.parse(ast.unparse(target), mode="eval").body
    return node


def surcharge(fine: float, due: str, paid_at: str, percent_per_day: float) -> float:
    """加处罚款 (行政处罚法 Art 72): percent of the fine per day late, never more than the fine itself."""
    late_days = (_moment(paid_at) - _moment(due)).total_seconds() / 86400
    days = max(0, int(late_days) + (1 if late_days % 1 else 0))
    return float(min(fine, round(fine * percent_per_day / 100 * days, 2)))


class LimitProbe(RestrictedEnvironment):
    """The restricted environment with due()/warn() noting (limit id, start) instead of counting days: what a
    timer applies, read by engine.spiff.timers.applied_limit."""

    def __init__(self) -> None:
        super().__init__(lambda: dt.datetime(1970, 1, 1, tzinfo=dt.UTC), None, None)  # type: ignore[arg-type]
        self.applied: tuple[str, str | None] | None = None

    def due(self, limit_id: str, start: str | None = None) -> str:
        self.applied = (limit_id, start)
        return self.now()

    warn = due

    def end_of_day(self, day: str) -> str:  # a date a person set: no statutory limit applied
        return self.now()

    def probe(self, expression: str, names: dict[str, Any]) -> tuple[str, str | None] | None:
        """(limit id, start) of the due()/warn() the expression calls over `names` (kept as given, so a
        mapping that answers absent names answers them here too)."""
        self.applied = None
        self._eval(parse_expression(expression), expression, names)
        return self.applied


class CasetrailScriptEngine(PythonScriptEngine):
    """Spiff's script engine over the restricted environment, carrying the instance's clock."""

    def __init__(self, clock: Callable[[], dt.datetime], settings: Settings, calendar: WorkingCalendar) -> None:
        self.restricted = RestrictedEnvironment(clock, settings, calendar)
        super().__init__(environment=self.restricted)
        self.clock = clock

    def validate(self, expression: str) -> None:
        # DMN uses this to tell "== value" entries from "< value" entries: it must raise SyntaxError only.
        ast.parse(expression)
