"""The `casetrail` command: a thin entry point over the engine's use cases.

This module only assembles the command group from the command modules (engine/cli_commands.py,
engine/cli_agencies.py, engine/cli_calendar.py, engine/cli_evidence.py, engine/cli_notifications.py, engine/cli_audit.py,
engine/cli_backup.py, engine/cli_indicators.py, engine/cli_supervision.py); what they share is in engine/cli_support.py.
Errors: exit 2 with a one-line message on stderr; `--json` output is JSON only.
"""

from __future__ import annotations

import logging
import warnings

import click

from engine.cli_agencies import agency
from engine.cli_audit import commands as audit_commands
from engine.cli_backup import commands as backup_commands
from engine.cli_calendar import calendar, warn_after_each_command
from engine.cli_commands import commands
from engine.cli_evidence import evidence
from engine.cli_indicators import commands as indicator_commands
from engine.cli_notifications import notifications
from engine.cli_supervision import supervise

# Libraries' chatter is not the command's output, and stderr is where its one error line goes: pyHanko imports
# cryptography's DSA names (deprecated there; casetrail signs with ECDSA P-256), and fontTools reports each
# table of a system font it leaves out of a subset (documents/fonts.py subsets fonts for the 文书).
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


@click.group()
def main() -> None:
    """casetrail — 卫生监督案件办理系统 (case handling for health-supervision agencies)."""


for command in (*commands(), agency, calendar, evidence, notifications, supervise, *audit_commands(),
                *backup_commands(), *indicator_commands()):
    main.add_command(command)
warn_after_each_command(main)


if __name__ == "__main__":
    main()
