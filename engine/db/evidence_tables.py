"""Evidence files of a case (issue 14): one row per file added, naming its bytes in the blob store by SHA-256.

A row is `staged` when the file is stored and waits for the step it was added for (or, without a task, for the
step that registers it, 证据登记); the step's signed record lists it and `write_step` marks it `attached`, with
the seq of that record, in the step's transaction. A file handed in with a complaint is staged before its case exists
(投诉举报登记, /cases/new): its case is empty and `intake_key` names the registration page it was added on (one key
per page, held by the page); registering the complaint lists the clerk's files of that key in the case's first
signed record and gives them the new case, in the same transaction (engine/usecases/cases.py). A step that fails leaves it staged; staged rows older than
settings.json `evidence.staged_max_age_days` are deleted and blobs no row names are collected
(engine/usecases/evidence.py). Attached rows are never changed or deleted: the signed record names them.

A `drawn` row is an image drawn on the screen (the party's signature on a 笔录), stored from the form before its
step (engine/usecases/drawn_images.py): like a staged file it waits for its step and is collected at the same
age if none takes it, but only the step whose form names it by digest lists it — it is not among the files
staged for the task. The step's transaction marks it `attached` like any other file.

`purpose` says what a file is for (migration 0021): `evidence`, or `party_signature` — a drawn image of the
party's signature, set when it is stored. Both are files of their step's signed record (the bundle, the dossier
and verification carry and check them alike), but a signature is no evidence: the case's evidence lists and the
证据登记 picker leave it out, and the case page shows it in its own group.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base, UtcDateTime
from engine.enums import FilePurpose

STAGED = "staged"
ATTACHED = "attached"
DRAWN = "drawn"  # a drawn image stored for its step, waiting for the form that names it (no migration: a value)


class EvidenceFileRow(Base):
    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None only while staged for a complaint not registered yet (`intake_key`).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the step it was added for
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))  # recognised from the content
    name: Mapped[str] = mapped_column(String(255))  # as the person named it; shown, never trusted
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    exif: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the camera's claims: time, GPS
    state: Mapped[str] = mapped_column(String(16), default=STAGED)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the step record that took it
    # The registration page a file without a case was added on (its clerk's files of that page go with the case).
    intake_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What the file is for: evidence, or the party's signature (no CHECK: 0021 adds it without rebuilding the table).
    purpose: Mapped[str] = mapped_column(String(16), default=FilePurpose.EVIDENCE.value,
                                         server_default=FilePurpose.EVIDENCE.value)

    __table_args__ = (
        Index("ix_evidence_files_case", "case_id", "id"),
        Index("ix_evidence_files_task", "task_id", "added_by", "state"),
        Index("ix_evidence_files_sha256", "sha256"),
        Index("ix_evidence_files_state_added", "state", "added_at"),
        Index("ix_evidence_files_intake", "added_by", "intake_key", "state"),
        CheckConstraint("case_id IS NOT NULL OR (intake_key IS NOT NULL AND state = 'staged')",
                        name="ck_evidence_files_case_or_intake"),
    )


__all__ = ["ATTACHED", "DRAWN", "STAGED", "EvidenceFileRow"]
