"""Tables. ORM classes end in `Row` because "model" means the BPMN model here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from engine.enums import CaseOutcome, CaseStatus, TaskStatus


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


NO_DEADLINE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class AgencyRow(Base):
    """An agency on the platform (卫生健康行政执法机构): the province, its cities, their districts and 派出 units.

    Every user and every case belongs to one. What the law lets a province or city set for its own agencies
    (the discretion benchmark, 较大数额, legal review of all general cases) is in `settings`, over the platform's
    settings.json; the working-day calendar is the platform's. The platform's home agency (settings.json
    `agency`, the one a single-agency deployment always had) is the row migration 0017 created.
    """

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    short: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True)
    level: Mapped[str] = mapped_column(String(16))  # engine.enums.AgencyLevel
    case_number_prefix: Mapped[str] = mapped_column(String(32))
    penalty_number_prefix: Mapped[str] = mapped_column(String(32))
    review_agency: Mapped[str] = mapped_column(String(100), default="")
    court: Mapped[str] = mapped_column(String(100), default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_agencies_parent", "parent_code", "code"),)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Where notices go by e-mail when the person chose so (engine/usecases/notifications.py); none: inbox only.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # 执法证号 and the last day it is valid (行政处罚法 第四十二条: only certified officers enforce): the profile an
    # administrator keeps; engine/usecases/people.py decides who may be picked from it.
    cert_no: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)
    cert_valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True, default=None)
    # The agency the person works for: what they handle and, for a supervisor, the root of what they read.
    # No foreign key (here and on cases): on SQLite adding one means rebuilding the table, and dropping the old
    # `cases` cascades into every task and record; engine/agencies.py refuses an unknown agency instead.
    agency_code: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list[UserRoleRow]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (Index("ix_users_agency", "agency_code", "id"),)


class UserRoleRow(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[UserRow] = relationship(back_populates="roles")

    __table_args__ = (Index("ix_user_roles_role", "role"),)


class DefinitionRow(Base):
    """A version of the process model: its files, identified by the sha256 over all of them."""

    __tablename__ = "process_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    entry_process_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    files: Mapped[list[DefinitionFileRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DefinitionFileRow.name"
    )


class DefinitionFileRow(Base):
    __tablename__ = "process_definition_files"

    definition_id: Mapped[int] = mapped_column(
        ForeignKey("process_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class CaseNumberRow(Base):
    """Per prefix and year, the last number given out (呈卫投〔2026〕0001号)."""

    __tablename__ = "case_numbers"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    stage: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32), default=CaseOutcome.OPEN.value)
    # Denormalised for lists and search; the full intake (and the complainant) lives in the state.
    respondent: Mapped[str] = mapped_column(String(200), default="")
    violation: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[bytes] = mapped_column(LargeBinary)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    opened_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The agency that handles the case (its number, its seal, its people); a transfer on the platform opens a
    # new case at the receiving agency rather than moving this one.
    agency_code: Mapped[str] = mapped_column(String(32))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_next_timer_at", "next_timer_at"),
        Index("ix_cases_stage", "stage"),
        Index("ix_cases_outcome", "outcome"),
        Index("ix_cases_id_violation", "id", "violation"),
        Index("ix_cases_status_stage", "status", "stage"),
        Index("ix_cases_status_updated", "status", "updated_at"),
        Index("ix_cases_created", "created_at"),
        # The case list in order, its filters and its text search read this index, never the rows (states).
        Index("ix_cases_list", "updated_at", "id", "status", "stage", "number", "respondent"),
        # Who may see a case (engine/usecases/access.py visible_cases): the cases a person registered.
        Index("ix_cases_opened_by", "opened_by", "id"),
        # An agency's cases and a supervisor's subtree (engine/agencies.py), newest first.
        Index("ix_cases_agency", "agency_code", "updated_at", "id"),
    )


class TaskRow(Base):
    """Denormalised human tasks: task lists are indexed queries here, never a workflow deserialisation."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    spec_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(32))
    document: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.READY.value)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    supervision: Mapped[bool] = mapped_column(Boolean, default=False)
    mi_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # due_at with "no deadline" as the far future: one non-null key that every backend orders by index.
    sort_due: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=lambda: NO_DEADLINE)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    form_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Its case's agency (cases.agency_code; a case never changes agency): only that agency's people are offered
    # it, and its heads lead it — the queues read it here, by index, not through the cases (migration 0023).
    agency_code: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        # Group and assignee queues, and everything the task page counts by: read without the rows.
        Index("ix_tasks_open_queue", "status", "assignee", "role", "restricted", "sort_due", "created_at", "id",
              "stage", "case_id", "supervision"),
        Index("ix_tasks_assignee_queue", "status", "assignee", "sort_due", "created_at"),
        Index("ix_tasks_case", "case_id", "status"),
        Index("ix_tasks_case_spec_done", "case_id", "spec_id", "completed_by"),
        Index("ix_tasks_open_due", "status", "sort_due"),
        Index("ix_tasks_spec_done", "spec_id", "status", "completed_at"),
        # Who takes part in which case (visible_cases): the cases of the tasks a person holds or completed.
        Index("ix_tasks_assignee_case", "assignee", "case_id"),
        Index("ix_tasks_completed_by_case", "completed_by", "case_id"),
        # One agency's lane queues (engine/usecases/tasks.py `_queue_ids`) and its heads' team view and overdue
        # steps (engine/usecases/access.py `team_tasks`), in deadline order.
        Index("ix_tasks_agency_queue", "status", "agency_code", "assignee", "role", "restricted", "sort_due",
              "created_at", "id"),
        # With the step (spec_id, name): the indicators' overdue steps per agency are counted from it alone.
        Index("ix_tasks_agency_due", "status", "agency_code", "sort_due", "id", "spec_id", "name"),
    )


class TaskUserRow(Base):
    """Who a task is offered to by name (`candidate`) or barred from (`excluded`, separation of duties)."""

    __tablename__ = "task_users"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)

    __table_args__ = (Index("ix_task_users_user", "user_id", "kind", "task_id"),)


class CaseEventRow(Base):
    """Every state change of a case, in order: the 全程留痕 journal (claims, completions, timers)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    spec_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)


class CertificateRow(Base):
    """Every certificate the agency issued (root, seal, log, officers): what verifiers and bundles need.

    `revoked_at` is the moment from which signatures with this certificate are invalid (the CRL's
    revocation date); a rekey revokes the old certificate at the moment the new one is issued.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    pem: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_certificates_user", "user_id"), Index("ix_certificates_role", "role"))


class UserKeyRow(Base):
    """An officer's private key, encrypted (PKCS#8, scrypt) under a PIN the server never stores, and wrapped
    under the officers' key-encryption key held outside the database (signatures.keywrap); keys stored before
    wrapping are wrapped at start-up. `pin_failures` counts wrong PINs in a row; `blocked_at`: since when the
    key refuses every PIN (engine/officer_keys.py)."""

    __tablename__ = "user_keys"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    encrypted_pem: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    blocked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_user_keys_user", "user_id", "active"),)


class StepRecordRow(Base):
    """The signed step records (append-only): canonical bytes exactly as signed, chained per case."""

    __tablename__ = "step_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    task_spec_id: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    cert_fingerprint: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(Integer, unique=True)
    signed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_step_records_case_seq"),
    )


class LogLeafRow(Base):
    """One leaf of the global Merkle log (RFC 9162): the leaf hash of a record's digest."""

    __tablename__ = "log_leaves"

    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    case_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)


class LogStateRow(Base):
    """The single row appends lock (as late as possible): size and the compact range (frontier).

    `frontier` is the concatenation of the perfect-subtree hashes covering the log, largest first; an
    append touches only O(log n) of them and never reads `log_leaves`.
    """

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class TreeHeadRow(Base):
    """Signed tree heads of the log, in the order they were signed (`treehead.json` bytes in `signed`)."""

    __tablename__ = "tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    cert_fingerprint: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signed: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_tree_heads_size", "size"),)


class LoginSessionRow(Base):
    """A logged-in browser (issue 13 item 3). The cookie carries only a random session id; this row, found by
    the id's SHA-256 (a copied database yields no usable cookie), says whether it still counts — so logging
    out, a password change, deactivation, a revoked certificate or an administrator end it at once, for every
    worker. Rows are deleted once past `expires_at` (bounded: the logins of one session lifetime)."""

    __tablename__ = "login_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_why: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user: Mapped[UserRow] = relationship(lazy="raise")

    __table_args__ = (
        Index("ix_login_sessions_user", "user_id", "ended_at"),
        Index("ix_login_sessions_expires", "expires_at"),
    )


class LoginThrottleRow(Base):
    """Failed logins counted in a fixed number of slots (issue 13 item 4): a source address, an account, or the
    pair of both is hashed (keyed, engine/usecases/logins.py) to a slot, so unknown names add no rows — the
    table never holds more than `security.login_throttle.slots` rows whatever is typed."""

    __tablename__ = "login_throttle"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    delayed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ServerSecretRow(Base):
    """Random values every worker must share and nobody needs to know (the throttle's hash key): made once."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


__all__ = [
    "Base", "UserRow", "UserRoleRow", "DefinitionRow", "DefinitionFileRow", "CaseNumberRow", "CaseRow",
    "TaskRow", "TaskUserRow", "CaseEventRow", "CertificateRow", "UserKeyRow", "StepRecordRow",
    "LogLeafRow", "LogStateRow", "TreeHeadRow", "LoginSessionRow", "LoginThrottleRow", "ServerSecretRow",
]
