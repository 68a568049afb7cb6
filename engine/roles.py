"""Roles: the BPMN lanes (workflows/roles.json) plus the roles that act outside the process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine.db.tables import UserRow

ROLES_FILE = Path(__file__).resolve().parents[1] / "workflows" / "roles.json"

ADMIN_ROLE = "admin"
# Roles that do not own a lane: auditors verify signature chains, admins manage users and models. (Supervisors —
# at a city or province agency, reading the cases and figures of the agencies under theirs — own the 挂牌督办
# lane of the model: workflows/roles.json.)
SYSTEM_ROLES = {
    "auditor": {"zh": "审计人员", "en": "Auditor"},
    "admin": {"zh": "系统管理员", "en": "Administrator"},
}


@cache
def lane_roles() -> dict[str, dict[str, str]]:
    return json.loads(ROLES_FILE.read_text(encoding="utf-8"))


def all_roles() -> dict[str, dict[str, str]]:
    return {**lane_roles(), **SYSTEM_ROLES}


def require_admin(session: Session, user_id: str, refusal: str) -> UserRow:
    """The active administrator `user_id`; else Forbidden, with `refusal` and the user id: checked in the
    engine on every administrative change, whatever the caller showed."""
    from engine.db.repositories import Users

    return Users(session).holding(user_id, ADMIN_ROLE, refusal=refusal)

