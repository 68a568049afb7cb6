"""The auditor's question: is this recorded sequence of steps a path the model allows?

The recorded (task_spec_id, form_data) steps are re-run through a fresh instance of the definition. Time
is not recorded as steps, so when the next recorded step is not ready the replay lets the earliest pending
timer fire (only timers can move a case without a person) and tries again. Gates are checked as well: a
path that passes the model's structure but breaks a legal gate is not a path the model allows.

An audit replays thousands of cases, many along the same path with the same routing data. `ReplayMemo` keeps
the verdict of every path that passed, keyed by what the replay can actually read of each step's data (see
`ModelReads`): a case whose steps agree on all of that replays exactly as the one already replayed did.

A bundle for an auditor withholds sealed values (the complainant's identity, votes not yet acted on:
docs/evidence-bundle.md §1a). The replay runs on a `WithheldValue` in their place, which may be moved but not
looked at: the model is deterministic, so a replay that never reads one takes the path the values would take;
one that reads one stops there (`ReplayResult.withheld`), and the path is reported not checked from that step on.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.rules.deadlines import calendar_for
from engine.rules.settings import Settings, load_settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.clocks import MutableClock
from engine.spiff.instance import ProcessInstance

if TYPE_CHECKING:
    from engine.spiff.definitions import LoadedDefinition

MAX_TIMER_HOPS = 50


class WithheldRead(Exception):
    """The model read a value the bundle withholds: the replay cannot say what it would have done."""

    def __init__(self, pointer: str) -> None:
        super().__init__(f"the model reads a withheld value ({pointer})")
        self.pointer = pointer


class WithheldValue:
    """Stands in for a sealed value the replay is not given. Moving it (assigning, copying, putting it in a list
    or an object) is allowed; every operation that would look at it — comparison, hashing, truth, conversion,
    arithmetic, `in`, `len`, iteration, indexing — raises `WithheldRead`."""

    __slots__ = ("pointer",)

    def __init__(self, pointer: str) -> None:
        self.pointer = pointer

    def __repr__(self) -> str:  # a name for the memo key and messages; says nothing of the value
        return f"WithheldValue({self.pointer!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> WithheldValue:
        return self

    def __copy__(self) -> WithheldValue:
        return self

    def _read(self, *args: Any, **kwargs: Any) -> Any:
        raise WithheldRead(self.pointer)

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _read  # type: ignore[assignment]
    __hash__ = __bool__ = __str__ = __format__ = __int__ = __float__ = __index__ = _read  # type: ignore[assignment]
    __len__ = __iter__ = __contains__ = __getitem__ = __getattr__ = _read  # type: ignore[assignment]
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _read
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = _read
    __and__ = __rand__ = __or__ = __ror__ = __round__ = _read


def withheld_read(exc: BaseException | None) -> WithheldRead | None:
    """The `WithheldRead` behind an exception SpiffWorkflow or the engine wrapped around it, if any."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, WithheldRead):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


@dataclass(frozen=True)
class CaseEnd:
    """Where a case stands after its steps: what the case row's stage, outcome and status copy."""

    stage: str
    outcome: str
    closed: bool


@dataclass(frozen=True)
class ReplayResult:
    ok: bool
    failing_index: int | None
    reason: str | None
    outcome: str | None = None
    # Where the replay ends (a path that passed): after the last step, then after each further timer fired in
    # turn when asked for (`timer_hops`) — time alone can move a case on after its last signed step.
    ends: tuple[CaseEnd, ...] = ()
    timers_waiting: bool = False  # a timer was still waiting after the last step
    withheld: str | None = None  # not ok: stopped at `failing_index`, where the model reads this withheld field


def _start_moment(data: dict[str, Any]) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(data.get("received_at")))
        if moment.tzinfo is not None:
            return moment
    except ValueError:
        pass
    return dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)


def replay_path(definition: LoadedDefinition, steps: list[tuple[str, dict[str, Any]]], *,
                settings: Settings | None = None, calendar: WorkingCalendar | None = None,
                start_data: dict[str, Any] | None = None, timer_hops: int = 0) -> ReplayResult:
    """Re-run the steps. The first step may be the start event (its id and the intake data). With `timer_hops`,
    up to that many waiting timers are then fired one after the other, the earliest first (see `ReplayResult.ends`)."""
    settings = settings or load_settings()
    calendar = calendar or calendar_for(settings)
    steps = list(steps)
    start_id = definition.start_meta.get("id", "start")
    offset = 0
    if start_data is None:
        if not steps or steps[0][0] not in (start_id, "start"):
            return ReplayResult(False, 0, "缺少立案登记（开始事件）数据 (the path must begin with the start event)")
        start_data = steps[0][1]
        offset = 1
    clock = MutableClock(_start_moment(start_data))
    try:
        instance = ProcessInstance.start(definition, dict(start_data), clock=clock, settings=settings,
                                         calendar=calendar)
    except Exception as exc:  # a model failing on this data is a failed replay, not a crash of the auditor
        return _stopped(0, exc) or ReplayResult(False, 0, f"开始事件失败 (start failed): {exc}")
    return _replay_steps(instance, steps, offset, clock, timer_hops)


def _stopped(index: int, exc: BaseException) -> ReplayResult | None:
    read = withheld_read(exc)
    if read is None:
        return None
    return ReplayResult(False, index, _stopped_reason(read.pointer), withheld=read.pointer)


def _stopped_reason(pointer: str) -> str:
    return (f"未核对：流程在此步骤读取未披露的密封字段 {pointer}，此后的路径无法核对 (not checked from this step: the model "
            f"reads the withheld field {pointer})")


def _replay_steps(instance: Any, steps: list[tuple[str, dict[str, Any]]], offset: int, clock: MutableClock,
                  timer_hops: int) -> ReplayResult:
    for index, (spec_id, form_data) in enumerate(steps[offset:], start=offset):
        if spec_id in instance.definition.message_starts:  # a step taken without a task: its message, sent again
            failed = _replay_message(instance, index, spec_id, form_data)
            if failed is not None:
                return failed
            clock.advance_to(clock() + dt.timedelta(minutes=1))
            continue
        try:  # waiting for the step may fire timers, whose expressions may read a withheld value
            task = _ready_for(instance, spec_id, form_data, clock)
        except Exception as exc:
            if (stopped := _stopped(index, exc)) is not None:
                return stopped
            raise
        if task is None:
            ready = sorted({t.spec_id for t in instance.ready_user_tasks()})
            return ReplayResult(False, index, f"模型不允许此步骤 (step not allowed here): {spec_id}; "
                                            f"当时待办 (ready then): {', '.join(ready) or '-'}")
        try:  # a gate reading a withheld value raises through evaluate_gates (it catches only the model's errors)
            gate = instance.evaluate_gates(task.id, form_data)
        except WithheldRead as exc:
            return ReplayResult(False, index, _stopped_reason(exc.pointer), withheld=exc.pointer)
        if gate is not None:
            return ReplayResult(False, index, f"法定关卡拒绝 (legal gate refused): {gate.article} {gate.message}")
        try:
            instance.complete(task.id, dict(form_data))
        except Exception as exc:
            return _stopped(index, exc) or ReplayResult(False, index, f"流程执行出错 (the model failed): {exc}")
        clock.advance_to(clock() + dt.timedelta(minutes=1))
    waiting = instance.next_timer_due() is not None
    ends = [_end(instance)]
    for _ in range(timer_hops):
        due = instance.next_timer_due()
        if due is None:
            break
        clock.advance_to(max(clock(), due + dt.timedelta(seconds=1)))
        try:
            instance.fire_due_timers()
        except Exception:  # noqa: BLE001 - a model failing on a timer: the ends so far are what is known
            break
        ends.append(_end(instance))
    return ReplayResult(True, None, None, instance.outcome, ends=tuple(ends), timers_waiting=waiting)


def _replay_message(instance: Any, index: int, spec_id: str, form_data: dict[str, Any]) -> ReplayResult | None:
    """A message start event's step (挂牌督办): its gates over the case's data, then its message."""
    try:
        gate = instance.evaluate_message_gates(spec_id, form_data, form_data.get("_actor"))
        if gate is not None:
            return ReplayResult(False, index, f"法定关卡拒绝 (legal gate refused): {gate.article} {gate.message}")
        instance.receive(spec_id, dict(form_data))
    except Exception as exc:
        return _stopped(index, exc) or ReplayResult(False, index, f"模型不允许此步骤 (step not allowed here): {spec_id}: {exc}")
    return None


def _end(instance: Any) -> CaseEnd:
    return CaseEnd(stage=instance.stage, outcome=instance.outcome, closed=instance.completed)


def _ready_for(instance: Any, spec_id: str, form_data: dict[str, Any], clock: Any) -> Any:
    for _ in range(MAX_TIMER_HOPS):
        ready = [t for t in instance.ready_user_tasks() if t.spec_id == spec_id]
        actor = form_data.get("_actor")
        if actor is not None:
            ready = [t for t in ready if t.assignee_hint in (None, actor)] or ready
        if ready:
            return ready[0]
        due = instance.next_timer_due()
        if due is None:
            return None
        clock.advance_to(due + dt.timedelta(seconds=1))
        instance.fire_due_timers()
    return None


# --- the memo -----------------------------------------------------------------------------------------
# Data keys read whatever the model says: by the replay and the engine - the start moment (the replay clock), the
# actor (which of several ready instances is theirs; gates), the intake's `settings` override, the outcome - and
# by SpiffWorkflow, which keeps a process's data objects under `data_objects` and offers them to every expression.
ENGINE_READS = frozenset({"received_at", "_actor", "settings", "outcome", "data_objects"})
# The model's functions (engine.spiff.scripting.CALLABLE_NAMES) that read no case data by a name they are given.
# `var(name)` does; it is allowed only with a literal name. A function added there and not here turns the memo off.
_NAME_BLIND_FUNCTIONS = frozenset({"due", "warn", "now", "before", "days_between", "end_of_day", "surcharge",
                                   "majority", "len", "min", "max", "sum", "round", "int", "float", "str", "bool",
                                   "abs", "sorted", "any", "all"})
_VAR = re.compile(r"(?<!\w)var(?!\w)")
_LITERAL_VAR = re.compile(r"""var\s*\(\s*(?:'[^'\\\n]*'|"[^"\\\n]*")\s*[,)]""")


@dataclass(frozen=True)
class ModelReads:
    """Which keys of a case's data the replay can read, found once per definition from the model's text.

    The restricted script environment (engine.spiff.scripting) lets an expression reach task data only by a
    name written in it: a Python name, or `var('literal')`; attribute access is limited to a few methods of
    values already read, and no expression can name the data as a whole. SpiffWorkflow reads data only where
    the model names it (conditions, scripts, timers, multi-instance collections, DMN inputs), and the engine
    reads the properties the model names (assigneeFrom, …), the gates' expressions and `ENGINE_READS`. So a key
    that appears nowhere in the model's BPMN/DMN text, attribute values or gate expressions — also after the
    NFKC folding Python applies to identifiers — is never read, and two steps that differ only there replay
    identically. A `var(…)` with a computed name defeats that reasoning: such a model is never memoised.
    """

    text: str  # every piece, NUL-separated (a match across two pieces only makes the key larger)
    folded: str
    dynamic: str | None  # why this model cannot be memoised (None: it can)

    def reads(self, key: str) -> bool:
        return key in ENGINE_READS or key in self.text or unicodedata.normalize("NFKC", key) in self.folded


def model_reads(definition: LoadedDefinition) -> ModelReads:
    """Scan the model once (cached per definition sha256)."""
    cached = _READS.get(definition.sha256)
    if cached is None:
        cached = _READS[definition.sha256] = _scan(definition)
    return cached


def _scan(definition: LoadedDefinition) -> ModelReads:
    from engine.spiff.scripting import CALLABLE_NAMES
    from engine.spiff.validation import parse_xml

    texts: list[str] = []
    for name, content in definition.files.items():
        if name.endswith((".bpmn", ".dmn")):
            for node in parse_xml(name, content).iter():
                texts.extend(t for t in (node.text, node.tail, *node.attrib.values()) if t and t.strip())
    texts.extend(g.refuse_if for gates in definition.gate_table.values() for g in gates)
    dynamic = None
    unknown = set(CALLABLE_NAMES) - _NAME_BLIND_FUNCTIONS - {"var"}
    if unknown:
        dynamic = f"the model may call {sorted(unknown)}, which this memo does not know"
    folded = [unicodedata.normalize("NFKC", t) for t in texts]
    for text in folded:
        if any(not _LITERAL_VAR.match(text, m.start()) for m in _VAR.finditer(text)):
            dynamic = f"var() with a name that is not a literal: {text.strip()[:80]}"
            break
    return ModelReads("\0".join(texts), "\0".join(folded), dynamic)


_READS: dict[str, ModelReads] = {}
Step = tuple[str, dict[str, Any]]


class ReplayMemo:
    """`replay_path` for one definition, settings and calendar, remembering every path that passed.

    A hit returns the earlier verdict (with its outcome); only passing replays are kept, so a refused path is
    always replayed and reported with its own reason. Use one memo per audit run: it holds every key it saw.
    """

    def __init__(self, definition: LoadedDefinition, *, settings: Settings, calendar: WorkingCalendar) -> None:
        self.definition = definition
        self.settings = settings
        self.calendar = calendar
        self.model = model_reads(definition)
        self._read: dict[str, bool] = {}
        self._passed: dict[tuple[Any, ...], ReplayResult] = {}
        self._with_timers: dict[tuple[Any, ...], ReplayResult] = {}  # by (key, timer hops)
        self.hits = 0
        self.replays = 0

    def key(self, steps: Sequence[Step]) -> tuple[Any, ...] | None:
        """What the replay of these steps can depend on (None: this model cannot be memoised)."""
        if self.model.dynamic is not None:
            return None
        read, reads = self._read, self.model.reads
        out = []
        for spec_id, data in steps:
            items = []
            for name, value in data.items():
                seen = read.get(name)
                if seen is None:
                    seen = read[name] = reads(name)
                if seen:
                    items.append((name, repr(value)))  # repr tells 1, 1.0 and True apart; dict order kept
            out.append((spec_id, tuple(items)))
        return tuple(out)

    def replay(self, steps: Sequence[Step], *, timer_hops: int = 0) -> ReplayResult:
        """`replay_path` of these steps, or the verdict kept for a path with the same key (per `timer_hops`)."""
        key = self.key(steps)
        kept = self._passed if timer_hops == 0 else self._with_timers
        if key is not None:
            hit = kept.get((key, timer_hops) if timer_hops else key)
            if hit is not None:
                self.hits += 1
                return hit
        self.replays += 1
        result = replay_path(self.definition, list(steps), settings=self.settings, calendar=self.calendar,
                             timer_hops=timer_hops)
        if key is not None and result.ok:
            kept[(key, timer_hops) if timer_hops else key] = result
        return result
