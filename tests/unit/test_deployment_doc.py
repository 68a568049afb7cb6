"""docs/deployment.md is a working example, not prose: every `casetrail …` command line in it parses with the
real CLI, every CASETRAIL_* setting it names is one the code reads, and its environment file's values are accepted
by the code that reads them (the mail settings)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from engine.usecases.mailing import mail_settings_from

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
CODE = "\n".join(p.read_text(encoding="utf-8") for folder in ("engine", "web", "signatures", "documents")
                 for p in (REPO / folder).rglob("*.py"))


def _command_lines() -> list[list[str]]:
    found = []
    for match in re.finditer(r"/opt/casetrail/\.venv/bin/casetrail ([^\n'`]+)", DOC):
        text = match.group(1).replace("%i", "5000").replace("%%", "%").split("'")[0].strip()
        found.append(shlex.split(text.replace('"/srv/backup/casetrail-$(date +%F-%H%M)"', "/srv/backup/x")))
    for match in re.finditer(r"`(casetrail [^`]+)`", DOC):
        found.append(shlex.split(match.group(1))[1:])
    return found


def test_every_command_line_in_the_guide_parses_with_the_cli():
    from web.cli import main

    lines = _command_lines()
    assert len(lines) >= 6, lines
    for argv in lines:
        ctx = main.make_context("casetrail", list(argv), resilient_parsing=False)
        with ctx:
            name, command, rest = main.resolve_command(ctx, ctx.protected_args + ctx.args)
            while isinstance(command, click.Group):
                sub = command.make_context(name, rest, parent=ctx)
                name, command, rest = command.resolve_command(sub, sub.protected_args + sub.args)
            command.make_context(name, rest, parent=ctx)  # raises on an unknown option or a missing argument


def test_every_setting_the_guide_names_is_read_by_the_code():
    named = set(re.findall(r"\b(CASETRAIL_[A-Z0-9_]+)\b", DOC))
    assert {"CASETRAIL_DATABASE_URL", "CASETRAIL_BLOB_STORE", "CASETRAIL_METRICS_TOKEN"} <= named
    unknown = sorted(n for n in named if n not in CODE)
    assert unknown == [], unknown


def test_the_guides_mail_settings_are_accepted():
    block = DOC[DOC.index("## 2. One environment file"):DOC.index("## 3. systemd units")]
    environ = dict(line.split("=", 1) for line in block.splitlines() if line.startswith("CASETRAIL_"))
    mail = mail_settings_from(environ)
    assert mail is not None and (mail.host, mail.port, mail.tls) == ("smtp.internal", 587, "starttls")
