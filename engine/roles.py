"""Roles: the BPMN lanes (workflows/roles.json) plus the roles that act outside the process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ROLES_FILE = Path(__file__).resolve().parents[1] / "workflows" / "roles.json"

ADMIN_ROLE = "admin"
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


def require_admin(session: Session, user_id: str, refusal: str) -> None:
    """Refuse (Forbidden, with `refusal` and the user id) unless `user_id` is an active administrator:
    checked in the engine on every administrative change, whatever the caller showed."""
    from engine.db.tables import UserRow
    from engine.errors import Forbidden

    user = session.get(UserRow, user_id)
    if user is None or not user.active or ADMIN_ROLE not in {r.role for r in user.roles}:
        raise Forbidden(f"{refusal}: {user_id}")

