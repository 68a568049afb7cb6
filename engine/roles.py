"""Roles: the BPMN lanes (workflows/roles.json) plus the roles that act outside the process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ROLES_FILE = Path(__file__).resolve().parents[1] / "workflows" / "roles.json"

# Roles that do not own a lane: auditors verify signature chains, admins manage users and models.
SYSTEM_ROLES = {
    "auditor": {"zh": "审计人员", "en": "Auditor"},
    "admin": {"zh": "系统管理员", "en": "Administrator"},
}


@cache
def lane_roles() -> dict[str, dict[str, str]]:
    return json.loads(ROLES_FILE.read_text(encoding="utf-8"))


def all_roles() -> dict[str, dict[str, str]]:
    return {**lane_roles(), **SYSTEM_ROLES}
