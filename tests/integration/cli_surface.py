"""Every leaf command of the `casetrail` console script, so tests that must cover each one notice a new one."""

from __future__ import annotations

import click


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out |= leaf_commands(command, (*prefix, name))
            if command.invoke_without_command:  # runs alone too (`casetrail indicators`)
                out.add((*prefix, name))
        else:
            out.add((*prefix, name))
    return out


def casetrail_commands() -> set[tuple[str, ...]]:
    from web.cli import main

    return leaf_commands(main)


def command_of(args: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The leaf command an argument list runs (its first one or two words)."""
    known = casetrail_commands()
    for length in (2, 1):
        if tuple(args[:length]) in known:
            return tuple(args[:length])
    raise AssertionError(f"not a casetrail command: {args}")
