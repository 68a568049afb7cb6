"""Process definitions: stored by the sha256 of their files; a new upload is a new version."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from engine.db.tables import DefinitionFileRow, DefinitionRow
from engine.errors import DefinitionInvalid
from engine.services import Services
from engine.values import Clock


def store_definition(
    svc: Services, files: Mapping[str, bytes], entry_process_id: str, *, name: str, user_id: str | None,
    clock: Clock,
) -> tuple[int, str, bool]:
    """Validate and store a model version. Returns (id, sha256, created). Nothing is stored if invalid."""
    from engine.spiff.definitions import DefinitionError, load_definition

    try:
        loaded = load_definition(files, entry_process_id)
    except DefinitionError as exc:
        raise DefinitionInvalid(f"流程定义校验失败 (invalid process definition): {exc}") from exc
    with svc.uow() as session:
        existing = session.scalar(select(DefinitionRow).where(DefinitionRow.sha256 == loaded.sha256))
        if existing is not None:
            return existing.id, existing.sha256, False
        row = DefinitionRow(name=name, sha256=loaded.sha256, entry_process_id=entry_process_id,
                            created_at=clock(), created_by=user_id)
        row.files = [DefinitionFileRow(name=n, content=c) for n, c in sorted(files.items())]
        session.add(row)
        session.flush()
        return row.id, row.sha256, True


def store_default_definition(svc: Services, *, clock: Clock) -> tuple[int, str, bool]:
    from engine.spiff.definitions import load_default_definition

    default = load_default_definition()
    return store_definition(svc, default.files, default.entry_process_id, name="卫生行政处罚 (default)",
                            user_id=None, clock=clock)
