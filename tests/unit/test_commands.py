"""Use cases that change state take one command value and the keywords `svc` and `clock` (docs/architecture.md,
"Commands"); a command keeps its secrets out of its repr (a repr ends up in logs and tracebacks)."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from engine import values

ROOT = Path(__file__).resolve().parents[2]
USECASES = ROOT / "engine" / "usecases"

# Writers that take no command, each for a reason.
NOT_COMMANDS = {
    # A system job (the timer worker, `casetrail timers run`): no person asks for it; its only input is a batch size.
    "timers.run_timers",
    # Garbage collection of staged evidence nobody signed (the worker, `casetrail evidence gc`): a system job too.
    "evidence.collect_evidence",
    # Who a request's cookie belongs to: a read, whose only write is the last-seen bookkeeping of the session.
    "sessions.resume_session",
    # The model shipped in workflows/, stored through store_definition (which takes a StoreDefinition):
    # nothing in it comes from a person.
    "definitions.store_default_definition",
    # The worker's deadline scan and mail round (`casetrail worker`, issue 15): system jobs, no person asks for them.
    "deadline_notices.notify_deadlines",
    "mailing.send_outbox",
    # Housekeeping of the inbox by its retention setting (the worker, `casetrail notifications prune`).
    "notice_retention.prune_read_notices",
    # The write half of complete_task: it takes the step prepared from its command (tests write one apart).
    "completion.write_step",
    # The loop complete_task, open_case and flag_case write through: it takes their prepare and write, which
    # close over the command.
    "retrying.optimistic",
}

# What opens a write transaction: the unit of work, or the shared loop of the optimistic writers (which opens it).
WRITES = ("uow()", "optimistic(")

# Field names that hold a secret in some command: a password, a PIN, a session's bearer id.
SECRETS = {"password", "current", "new", "pin", "session_id"}


def _writers(path: Path) -> dict[str, ast.FunctionDef]:
    """The module's public functions that open a write transaction, themselves or through a function of the
    same module they call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    calls = {name: {c.func.id for c in ast.walk(f) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
             for name, f in functions.items()}
    writes = {name for name, f in functions.items() if any(w in ast.unparse(f) for w in WRITES)}
    while True:
        more = {name for name in functions if name not in writes and calls[name] & writes}
        if not more:
            break
        writes |= more
    return {name: functions[name] for name in sorted(writes) if not name.startswith("_")}


def _all_writers() -> dict[str, ast.FunctionDef]:
    return {f"{path.stem}.{name}": f for path in sorted(USECASES.glob("*.py")) for name, f in _writers(path).items()}


def _commands() -> list[type]:
    return [c for c in vars(values).values() if isinstance(c, type) and dataclasses.is_dataclass(c)
            and c.__module__ == values.__name__ and c.__dataclass_params__.frozen]  # type: ignore[attr-defined]


def test_the_writers_found_include_the_known_ones():
    found = _all_writers()
    assert {"users.change_password", "logins.log_in", "repair.repair_stuck_cases", "users.deactivate_user",
            "completion.complete_task", "timers.run_timers", "cases.open_case", "supervision.flag_case"} <= set(found)
    assert set(found) >= NOT_COMMANDS, "an exemption names a function that no longer writes: drop it"


@pytest.mark.parametrize("name", sorted(set(_all_writers()) - NOT_COMMANDS))
def test_a_use_case_that_changes_state_takes_a_command_and_svc_and_clock(name):
    function = _all_writers()[name]
    args = function.args
    commands = {c.__name__ for c in _commands()}
    assert len(args.args) == 1, f"{name}: one positional parameter, the command"
    annotation = args.args[0].annotation
    assert isinstance(annotation, ast.Name) and annotation.id in commands, \
        f"{name}: its first parameter is a frozen command of engine/values.py"
    assert [a.arg for a in args.kwonlyargs][:2] == ["svc", "clock"], f"{name}: keywords svc= and clock= next"


def _sample(field: dataclasses.Field) -> object:
    if field.name in SECRETS:
        return f"secret-{field.name}-4711"
    kind = str(field.type)
    if "date" in kind:
        return dt.date(2026, 10, 1)
    if kind.startswith(("bool", "int")):
        return 1
    if kind.startswith(("tuple", "Sequence")):
        return ()
    if kind.startswith(("dict", "Mapping")):
        return {}
    return "x"


@pytest.mark.parametrize("command", [c for c in _commands() if {f.name for f in dataclasses.fields(c)} & SECRETS],
                         ids=lambda c: c.__name__)
def test_a_command_keeps_its_secrets_out_of_its_repr(command):
    fields = [f for f in dataclasses.fields(command) if f.init]
    value = command(**{f.name: _sample(f) for f in fields})
    assert "secret-" not in repr(value)


def test_commands_with_secrets_are_found():
    names = {c.__name__ for c in _commands() if {f.name for f in dataclasses.fields(c)} & SECRETS}
    assert {"AddUser", "ChangePassword", "SetPassword", "LogIn", "EndSession", "CompleteTask", "AssignTask",
            "RepairStuckCases"} <= names
