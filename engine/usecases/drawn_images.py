"""Images drawn on the screen (the party's signature on a 笔录, issue 14): stored as files before their step.

A form whose schema marks a drawn image `x-drawn-file` (engine/rules/drawn_images.py) is submitted with the image
as a data URL — the web form's `<canvas>`, the JSON API, `casetrail task complete --drawn`. `stage_drawn_images`
runs before the step's preparation: it checks who may act on the task and the whole form, as the step will, then
stores each image through the evidence staging path (engine/usecases/evidence.py `store_and_stage`: the same
content-addressed blob store, type from the bytes) as a `drawn` row of the task — its purpose
`party_signature`: a file of the step's record, not among the case's evidence — and hands the step its form with
each data URL replaced by the image's reference (digest, size, type). The step's record lists the file beside its
evidence and its transaction marks it attached; a step that is not signed leaves the row to be collected with
the staged files. The same image submitted again for the task (after a wrong PIN) is not stored twice.

`drawn_images_of` reads the images a form references back from the store for the step's 文书, checking each
against its digest; `drawn_file` finds the signed file a shown form's reference names, for the pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.blobs import check_digest
from engine.db.evidence_tables import ATTACHED, DRAWN, EvidenceFileRow
from engine.db.repositories import Cases, Tasks, Users
from engine.enums import FilePurpose
from engine.errors import EvidenceDamaged, Forbidden, NotFound
from engine.rules.drawn_images import (
    DATA_URL_PREFIX,
    PNG_MEDIA_TYPE,
    data_url,
    drawn_fields,
    drawn_values,
    is_reference,
    png_from_data_url,
    reference,
    replaced,
)
from engine.services import Services
from engine.usecases.access import check_may_act, ensure_open
from engine.usecases.evidence import evidence_file, store_and_stage
from engine.usecases.forms import validate_form
from engine.values import Clock, CompleteTask, EvidenceFileView, StageEvidence

IMAGE_FAMILY = frozenset({"image"})


def stage_drawn_images(cmd: CompleteTask, *, svc: Services, clock: Clock) -> CompleteTask:
    """`cmd` with each drawn image its form submits as a data URL stored and recorded by reference; `cmd` itself
    when there is none. Refused as the step would be (Forbidden, Conflict, ValidationError), nothing stored."""
    if not _has_data_url(cmd.data):
        return cmd
    with svc.uow.read() as session:
        task, case_id = _check_may_act(session, cmd)
        schema = svc.definition(session, Cases(session).get(case_id).definition_id).form_schema(task.spec_id)
        drawn = [(path, value, node) for path, value, node in drawn_fields(schema, cmd.data)
                 if isinstance(value, str)]
        if not drawn:
            return cmd
        # The whole form first: a mistake anywhere in it stores nothing.
        validate_form(schema, cmd.data, title=task.name, now=clock(), settings=svc.settings)
        kept = set(session.scalars(select(EvidenceFileRow.sha256).where(
            EvidenceFileRow.task_id == task.id, EvidenceFileRow.added_by == cmd.user_id,
            EvidenceFileRow.state == DRAWN)))
    references: dict[tuple[str | int, ...], dict[str, Any]] = {}
    for path, value, node in drawn:
        png = png_from_data_url(value, svc.settings.drawn_images)  # checked with the form: its bytes
        references[path] = reference(png)
        if references[path]["sha256"] in kept and svc.blobs.exists(references[path]["sha256"]):
            continue
        _store(svc, clock, cmd, case_id, png, name=f"{node.get('title') or path[-1]}.png")
        kept.add(references[path]["sha256"])
    return dataclasses.replace(cmd, data=replaced(cmd.data, references))


def _has_data_url(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(DATA_URL_PREFIX)
    if isinstance(value, Mapping):
        return any(_has_data_url(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_data_url(v) for v in value)
    return False


def _check_may_act(session: Session, cmd: CompleteTask) -> tuple[Any, int]:
    task = Tasks(session).get(cmd.task_id)
    ensure_open(task)
    check_may_act(session, task, Users(session).active(cmd.user_id))
    return task, task.case_id


def _store(svc: Services, clock: Clock, cmd: CompleteTask, case_id: int, png: bytes, *, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="casetrail-drawn-") as folder:
        source = Path(folder) / "drawn.png"
        source.write_bytes(png)
        store_and_stage(StageEvidence(case_ref=case_id, user_id=cmd.user_id, name=name, source=source,
                                      task_id=cmd.task_id),
                        svc=svc, clock=clock, name=name, note=None, accept=IMAGE_FAMILY, intake_key=None,
                        state=DRAWN, purpose=FilePurpose.PARTY_SIGNATURE,
                        check_again=lambda session: _check_may_act(session, cmd)[1])


def drawn_images_of(svc: Services, schema: Mapping[str, Any] | None, data: Any) -> dict[str, str]:
    """The drawn images the form `data` records by reference, read from the store: digest -> data URL (what a
    文书 template embeds). EvidenceDamaged if one is missing or its bytes do not give its digest."""
    out: dict[str, str] = {}
    for _path, value in drawn_values(schema, data):
        if not is_reference(value) or value["sha256"] in out:
            continue
        digest = value["sha256"]
        try:
            with svc.blobs.open(digest) as stream:
                png = stream.read(svc.settings.drawn_images.max_bytes + 1)
        except NotFound:
            raise EvidenceDamaged(f"签名图片文件缺失 (the stored drawn image {digest[:16]}… is missing)") from None
        if hashlib.sha256(png).hexdigest() != digest:
            raise EvidenceDamaged(f"签名图片文件与记录不符 (the stored drawn image {digest[:16]}… does not give its "
                                  "digest)")
        out[digest] = data_url(png)
    return out


def drawn_file(svc: Services, sha256: str, viewer_id: str) -> EvidenceFileView:
    """The drawn image with this digest in a signed record that `viewer_id` may see (a step's form shows it by its
    reference); NotFound as for a file that does not exist, whatever the reason."""
    check_digest(sha256)
    with svc.uow.read() as session:
        ids = list(session.scalars(select(EvidenceFileRow.id).where(
            EvidenceFileRow.sha256 == sha256, EvidenceFileRow.media_type == PNG_MEDIA_TYPE,
            EvidenceFileRow.purpose == FilePurpose.PARTY_SIGNATURE.value, EvidenceFileRow.state == ATTACHED)
            .order_by(EvidenceFileRow.id)))
    for file_id in ids:
        try:
            return evidence_file(svc, file_id, viewer_id)
        except (NotFound, Forbidden):
            continue
    raise NotFound(f"证据文件不存在 (no such evidence file): {sha256[:16]}…")


__all__ = ["drawn_file", "drawn_images_of", "stage_drawn_images"]
