"""Drafts of a form (issue 15): what a person has typed into a task's form — or into the registration page
(投诉举报登记) before its case exists — kept on the server, so a long 现场笔录 survives a dropped connection, an
ended session or another device, and comes back as typed when they return.

A draft is the form's raw fields as posted (name -> values), not the validated data: a half-filled or invalid
form is restored exactly. It is only ever its author's: saved by who may act on the task (the duties' check the
task page makes, engine/rules/duties.py `refusal_to_act`), read back by them alone. It is never part of the signed
record — nothing that builds a record, a bundle, the dossier or verify reads this table — and it goes when the
form's work is done or can no longer be theirs:
- completing the step deletes the task's drafts in the step's transaction (`drop_task_drafts`, one DELETE, from
  engine/usecases/completion.py); registering a complaint deletes the page's draft in the registration's;
- a task the model cancels (a timer interrupted it, the case ended) takes its drafts with it (tasksync);
- a head's hand-over to someone else deletes the drafts of everyone but the new holder (engine/usecases/tasks.py
  `assign_task`): the previous holder may no longer act on it, and their half-typed text is not the new
  holder's to see. Claiming or returning a task to the group keeps drafts: the person may take it up again.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from engine.db.draft_tables import DraftRow
from engine.db.repositories import Tasks, Users
from engine.errors import DraftTooLarge, ValidationError
from engine.rules.duties import INTAKE_ROLE
from engine.services import Services
from engine.usecases.access import check_may_act
from engine.usecases.evidence import check_intake_key
from engine.values import Clock, DiscardDraft, DraftView, SaveDraft

# Fields a draft never keeps, whatever the client sends: the signing PIN unlocks the officer's key and is never
# stored anywhere (engine/journal.py), and the CSRF token is the session's, not the form's.
NEVER_KEPT = frozenset({"pin", "csrf_token"})
MAX_NAME = 200  # a field's name (the deepest generated names, `items.12.photos.3.name`, are far shorter)
MAX_FIELDS = 5000  # names in one draft: a form of a few hundred rows of a few columns


def save_draft(cmd: SaveDraft, *, svc: Services, clock: Clock) -> DraftView:
    """Keep `cmd.fields` as `cmd.user_id`'s draft of the task (or of the registration page), replacing the one
    before, in one transaction. DraftTooLarge (413) over settings.json `drafts.max_bytes`; ValidationError (422)
    for fields that are not names and texts, or a malformed page key; Forbidden (403) unless the person may act
    on the task (or register complaints); Conflict (409) once the task is closed; NotFound (404) no such task.
    Nothing is written when refused."""
    fields = clean_fields(cmd.fields)
    size = len(_json(fields))
    limit = svc.settings.drafts.max_bytes
    if size > limit:
        raise DraftTooLarge(f"草稿过大（{size} 字节，上限 {limit} 字节），未保存；请精简内容或直接提交 "
                            f"(the draft is too large: {size} bytes, at most {limit}; not saved)")
    key = _key(cmd.task_id, cmd.intake_key)
    now = clock()
    with svc.uow() as work:
        session = work.session
        if cmd.task_id is not None:
            # The task's row locked: a save and the step's completion (which locks it too) never interleave, so
            # no draft is written after the step deleted its drafts.
            task = work.tasks.get(cmd.task_id, lock=True)
            check_may_act(session, task, work.users.active(cmd.user_id), now=now)
            case_id: int | None = task.case_id
        else:
            work.users.get(cmd.user_id, lock=True)  # one person's saves of a page, one after the other
            work.users.holding(cmd.user_id, INTAKE_ROLE, refusal="不是受理人员，不能登记投诉举报 (only intake "
                                                                 "clerks register complaints)")
            case_id = None
        row = session.scalar(_mine(cmd.user_id, key))
        if row is None:
            row = DraftRow(user_id=cmd.user_id, task_id=cmd.task_id, case_id=case_id, intake_key=cmd.intake_key,
                           fields=fields, size=size, updated_at=now)
            session.add(row)
        else:
            row.fields, row.size, row.updated_at = fields, size, now
        session.flush()
        view = _view(row)
        work.commit()
        return view


def discard_draft(cmd: DiscardDraft, *, svc: Services, clock: Clock) -> bool:
    """Drop `cmd.user_id`'s own draft of the task (or page), in one transaction; whether there was one. Anyone
    may drop their own draft, also of a task they may no longer act on; nobody else's."""
    del clock  # nothing is dated: the row goes
    key = _key(cmd.task_id, cmd.intake_key)
    with svc.uow() as work:
        work.users.active(cmd.user_id)
        gone = work.session.execute(delete(DraftRow).where(*_matching(cmd.user_id, key))
                                    .execution_options(synchronize_session=False)).rowcount
        work.commit()
        return bool(gone)


def load_draft(svc: Services, *, user_id: str, now: dt.datetime, task_id: str | None = None,
               intake_key: str | None = None) -> DraftView | None:
    """`user_id`'s draft of the task (or of the registration page), or None; refused as `save_draft` refuses at
    `now` (a person who may not act on the task is not shown even their own draft of it)."""
    key = _key(task_id, intake_key)
    with svc.uow.read() as session:
        if task_id is not None:
            check_may_act(session, Tasks(session).get(task_id), Users(session).active(user_id), now=now)
        else:
            Users(session).holding(user_id, INTAKE_ROLE)
        row = session.scalar(_mine(user_id, key))
        return None if row is None else _view(row)


def latest_intake_draft(svc: Services, user_id: str) -> DraftView | None:
    """The registration the clerk `user_id` left last without registering it (their newest page draft), or None:
    the registration page opens with it, under its key, so the files staged on it come back too."""
    with svc.uow.read() as session:
        Users(session).holding(user_id, INTAKE_ROLE)
        row = session.scalar(select(DraftRow).where(DraftRow.user_id == user_id, DraftRow.intake_key.is_not(None))
                             .order_by(DraftRow.updated_at.desc(), DraftRow.id.desc()).limit(1))
        return None if row is None else _view(row)


# --- in another use case's transaction ---------------------------------------------------------------------
def drop_task_drafts(session: Session, task_ids: Iterable[str], *, keep_user: str | None = None) -> None:
    """Delete the drafts of `task_ids` (but `keep_user`'s), in the caller's transaction: one DELETE statement, no
    read (the step's completion is the hot path)."""
    ids = list(task_ids)
    if not ids:
        return
    if len(ids) == 1 and keep_user is None:  # a step's own task: the statement built once
        session.execute(_DROP_TASK_DRAFTS, {"task_id": ids[0]})
        return
    query = delete(DraftRow).where(DraftRow.task_id.in_(ids))
    if keep_user is not None:
        query = query.where(DraftRow.user_id != keep_user)
    session.execute(query.execution_options(synchronize_session=False))


_DROP_TASK_DRAFTS = delete(DraftRow.__table__).where(DraftRow.__table__.c.task_id == bindparam("task_id"))


def drop_intake_draft(session: Session, user_id: str, intake_key: str | None) -> None:
    """Delete `user_id`'s draft of the registration page `intake_key`, in the registration's transaction."""
    if intake_key is not None:
        session.execute(delete(DraftRow).where(DraftRow.user_id == user_id, DraftRow.intake_key == intake_key)
                        .execution_options(synchronize_session=False))


# --- the fields --------------------------------------------------------------------------------------------
def clean_fields(fields: Any) -> dict[str, list[str]]:
    """The form's raw fields as a draft keeps them: each name (a form field's, without control characters) with
    its values as texts, in the order given, less `NEVER_KEPT`. ValidationError for anything else."""
    if not isinstance(fields, Mapping):
        raise ValidationError("草稿须为字段名到取值的对应 (a draft is a mapping of field names to values)")
    if len(fields) > MAX_FIELDS:
        raise ValidationError(f"草稿字段过多（上限 {MAX_FIELDS} 个） (too many fields in the draft: at most {MAX_FIELDS})")
    out: dict[str, list[str]] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or any(
                unicodedata.category(c)[0] == "C" for c in name):
            raise ValidationError("草稿含有无效的字段名 (the draft has a malformed field name)",
                                  {"fields": repr(name)[:MAX_NAME]})
        if name in NEVER_KEPT:
            continue
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise ValidationError("草稿的取值须为文本 (a draft's values are texts)", {name: "text or list of texts"})
        out[name] = list(values)
    return out


def _json(fields: dict[str, list[str]]) -> bytes:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _key(task_id: str | None, intake_key: str | None) -> tuple[str, str]:
    """What the draft is of: ("task", id) or ("intake", key); exactly one must be named."""
    if (task_id is None) == (intake_key is None):
        raise ValidationError("须指明草稿所属的任务或登记页面之一 (name either the task or the registration page)")
    if task_id is not None:
        return "task", task_id
    return "intake", check_intake_key(intake_key or "")


def _matching(user_id: str, key: tuple[str, str]) -> tuple[Any, ...]:
    column = DraftRow.task_id if key[0] == "task" else DraftRow.intake_key
    return DraftRow.user_id == user_id, column == key[1]


def _mine(user_id: str, key: tuple[str, str]) -> Any:
    return select(DraftRow).where(*_matching(user_id, key))


def _view(row: DraftRow) -> DraftView:
    return DraftView(fields={k: list(v) for k, v in row.fields.items()}, updated_at=row.updated_at, size=row.size,
                     task_id=row.task_id, intake_key=row.intake_key)


__all__ = ["NEVER_KEPT", "clean_fields", "discard_draft", "drop_intake_draft", "drop_task_drafts",
           "latest_intake_draft", "load_draft", "save_draft"]
