"""Process definitions: stored by the sha256 of their files; a new upload is a new version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.db.tables import CaseRow, DefinitionFileRow, DefinitionRow
from engine.errors import DefinitionInvalid
from engine.services import Services
from engine.usecases.access import require_platform_admin
from engine.values import Clock, StoreDefinition


def store_definition(cmd: StoreDefinition, *, svc: Services, clock: Clock) -> tuple[int, str, bool]:
    """Validate and store a model version. Returns (id, sha256, created). Nothing is stored if invalid: a broken
    file, or a 裁量基准 row outside the law's ranges in the settings the engine runs with (《行政处罚法》第三十四条)."""
    from engine.spiff.benchmarks import check_model
    from engine.spiff.definitions import DefinitionError, load_definition

    files, entry_process_id, name, user_id = cmd.files, cmd.entry_process_id, cmd.name, cmd.user_id
    if user_id is not None:  # a person (the admin page): the platform's administrator; None: the server's CLI
        with svc.uow.read() as session:
            require_platform_admin(session, user_id, "只有系统管理员可以上传流程版本 (only an administrator may store a "
                                                     "model version)")
    try:
        loaded = load_definition(files, entry_process_id)
        # Here, not in the reader: adopting a version is what the law's ranges bind; a version stored before
        # loads (stored=True) whatever the settings say now. Checked on every call, past the parse cache, which
        # may hold these files read as a stored version.
        check_model(loaded, settings=svc.settings, calendar=svc.calendar)
    except DefinitionError as exc:
        raise DefinitionInvalid(f"流程定义校验失败 (invalid process definition): {exc}") from exc
    with svc.uow() as work:
        existing = work.session.scalar(select(DefinitionRow).where(DefinitionRow.sha256 == loaded.sha256))
        if existing is not None:
            return existing.id, existing.sha256, False  # stored before: nothing to write
        row = DefinitionRow(name=name, sha256=loaded.sha256, entry_process_id=entry_process_id,
                            created_at=clock(), created_by=user_id)
        row.files = [DefinitionFileRow(name=n, content=c) for n, c in sorted(files.items())]
        work.session.add(row)
        work.commit()
        return row.id, row.sha256, True


def store_default_definition(*, svc: Services, clock: Clock) -> tuple[int, str, bool]:
    """Store the model shipped in workflows/ (`casetrail init`, the demo seed): `store_definition` with the
    default files, by the server's command line. No command value: nothing in it comes from a person."""
    from engine.spiff.definitions import load_default_definition

    default = load_default_definition()
    return store_definition(StoreDefinition(files=default.files, entry_process_id=default.entry_process_id,
                                            name="卫生行政处罚 (default)"), svc=svc, clock=clock)


def intake_form_schema(svc: Services) -> dict[str, Any]:
    """The JSON Schema of the start form (投诉举报登记) of the current process definition (NotFound before
    any is loaded)."""
    with svc.uow.read() as session:
        definition = svc.definition(session, svc.current_definition_id(session))
    return definition.start_form_schema()


def english_step_names(svc: Services) -> dict[str, str]:
    """The English name of each step of the current model by step id (its `nameEn` property: user tasks, start
    events, call activities). A step of a case on an older version is shown by the same id. NotFound before any
    model is loaded."""
    with svc.uow.read() as session:
        definition = svc.definition(session, svc.current_definition_id(session))
    return dict(definition.names_en)


@dataclass(frozen=True)
class DefinitionVersion:
    id: int
    name: str
    sha256: str
    entry_process_id: str
    created_at: dt.datetime
    created_by: str | None
    files: int
    cases: int
    current: bool  # new cases start on the newest version; running cases stay on theirs


def list_definitions(svc: Services) -> list[DefinitionVersion]:
    """Every stored version, newest first, with the number of cases running on or finished on each."""
    with svc.uow.read() as session:
        cases: dict[int, int] = {d: n for d, n in session.execute(
            select(CaseRow.definition_id, func.count()).group_by(CaseRow.definition_id))}
        files: dict[int, int] = {d: n for d, n in session.execute(
            select(DefinitionFileRow.definition_id, func.count()).group_by(DefinitionFileRow.definition_id))}
        rows = session.execute(select(DefinitionRow.id, DefinitionRow.name, DefinitionRow.sha256,
                                      DefinitionRow.entry_process_id, DefinitionRow.created_at,
                                      DefinitionRow.created_by).order_by(DefinitionRow.id.desc())).all()
    return [DefinitionVersion(r.id, r.name, r.sha256, r.entry_process_id, r.created_at, r.created_by,
                              files.get(r.id, 0), cases.get(r.id, 0), current=i == 0) for i, r in enumerate(rows)]
