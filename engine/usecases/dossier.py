"""The case dossier (案卷): cover, contents, every 文书 in order, the evidence list (证据目录) of every file the signed
records list with each photo on a 证据照片 page, the process diagram with the path taken, the signature manifest and
the verification result at printing time — sealed by the agency."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from documents import DossierCover, DossierEntry, ManifestRow, RenderMeta, bpmn_to_svg, build_dossier
from documents.dossier import EvidenceListing
from documents.photos import PagePhoto, page_photo
from engine.agencies import case_settings
from engine.agency_seals import seal_for
from engine.db.document_tables import DocumentRow
from engine.db.evidence_tables import EvidenceFileRow
from engine.db.repositories import Cases
from engine.db.tables import StepRecordRow, TaskRow, UserRow
from engine.enums import CaseOutcome, TaskStatus
from engine.errors import NotFound
from engine.journal import EVIDENCE_KEY
from engine.rules.drawn_images import referenced_digests
from engine.services import Services
from engine.stepdocs import pdf_signer
from engine.usecases.audit import verify_cases
from engine.usecases.signed import stored_seals
from engine.values import Clock
from signatures.records import SignedRecord, StepRecord
from signatures.sealing import open_form

if TYPE_CHECKING:
    from engine.spiff.definitions import LoadedDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

OUTCOME_TITLES: dict[str, str] = {
    CaseOutcome.OPEN: "办理中", CaseOutcome.NOT_ACCEPTED: "不予受理", CaseOutcome.TRANSFERRED: "移送有管辖权机关",
    CaseOutcome.NOT_FILED: "不予立案", CaseOutcome.SUMMARY_PENALTY: "当场处罚",
    CaseOutcome.PENALTY_PUBLISHED: "行政处罚（已公示）", CaseOutcome.NO_PENALTY: "不予行政处罚",
    CaseOutcome.REFERRED_JUDICIAL: "移送司法机关",
}


def build_case_dossier(svc: Services, ref: str, *, clock: Clock) -> bytes:
    now = clock()
    [report] = verify_cases(svc, [ref], clock=clock)
    tz = svc.settings.zone
    with svc.uow.read() as session:
        case = Cases(session).find(ref)
        definition = svc.definition(session, case.definition_id)
        names = {uid: name for uid, name in session.execute(select(UserRow.id, UserRow.name))}
        docs = list(session.scalars(select(DocumentRow).where(DocumentRow.case_id == case.id).order_by(DocumentRow.id)))
        rows = list(session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case.id)
                                    .order_by(StepRecordRow.seq)))
        tasks = list(session.scalars(select(TaskRow).where(TaskRow.case_id == case.id)))
        exif = {i: e for i, e in session.execute(select(EvidenceFileRow.id, EvidenceFileRow.exif)
                                                 .where(EvidenceFileRow.case_id == case.id))}
        seals = stored_seals(session.connection().execute, [case.id])[case.id]
        agency = case_settings(session, svc.settings, case.agency_code).agency  # the case's, on cover and seal
    records = [SignedRecord.from_parts(r.canonical, r.signature) for r in rows]
    done = {"start", *(t.spec_id for t in tasks if t.status == TaskStatus.COMPLETED)}
    current = {t.spec_id for t in tasks if t.status == TaskStatus.READY}
    officers = sorted({t.completed_by for t in tasks if t.role == "officer" and t.completed_by})
    cover = DossierCover(
        agency=agency.name, case_number=case.number,
        title=f"{case.respondent}{'案' if case.respondent else ''}", party=case.respondent,
        cause=_enum_title(definition.start_form_schema(), "violation_type", case.violation), outcome=OUTCOME_TITLES.get(case.outcome, case.outcome),
        handlers=tuple(names.get(u, u) for u in officers), filed_on=case.created_at.astimezone(tz).date(),
        closed_on=case.closed_at.astimezone(tz).date() if case.closed_at else None,
    )
    entries = [DossierEntry(title=d.title, pdf=d.pdf, step=_step_name(definition, d.spec_id), doc_number=d.doc_number,
                            date=d.created_at.astimezone(tz).date(), file_name=d.file_name) for d in docs]
    manifest = [
        ManifestRow(step=f"{s.record.seq}. {s.record.task_name}", signer=names.get(s.record.actor, s.record.actor),
                    cert_fingerprint=s.record.cert_fingerprint, time=s.record.signed_at, record_hash=s.record_hash,
                    document_hashes=tuple(d.sha256 for d in s.record.documents))
        for s in records
    ]
    sealer = seal_for(svc, case.agency_code)  # the file is the handling agency's: its seal
    seal = pdf_signer(sealer, agency.name, (svc.agency_keys.certificates()["root"],))
    # The case file is the agency's own: its lists show what the records seal (the names of a complainant's files).
    opened = [(s.record, open_form(s.record.form_data, s.record.sealed,
                                   {p: d for p, (_, d) in seals.get(s.record.seq, {}).items()})[0])
              for s in records]
    evidence = evidence_listings(svc, opened, names, exif)
    return build_dossier(cover, entries, _diagrams(definition, done, current), manifest, report.to_text(),
                         meta=RenderMeta(time=now, font_cache_dir=svc.font_cache_dir), seal=seal, evidence=evidence)


def evidence_listings(svc: Services, records: list[tuple[StepRecord, Mapping[str, Any]]], names: dict[str, str],
                      exif: dict[int, dict | None]) -> list[EvidenceListing]:
    """Every evidence file the signed records list, in record order (a file a later step names again, as 证据登记
    does, is listed once, under the step that took it); photos get a 证据照片 page, but not the party's signature
    drawn on the screen, which its 笔录 shows in its block."""
    tz = svc.settings.zone
    listed: list[EvidenceListing] = []
    seen: set[int] = set()
    for rec, form in records:  # each record with its opened form
        drawn = referenced_digests(form)
        for entry in form.get(EVIDENCE_KEY) or ():
            if entry["id"] in seen:
                continue
            seen.add(entry["id"])
            added_at = dt.datetime.fromisoformat(entry["added_at"].replace("Z", "+00:00")).astimezone(tz)
            claims = exif.get(entry["id"]) or {}
            photo = svc.settings.evidence.family_of(entry["media_type"]) == "image" and entry["sha256"] not in drawn
            listed.append(EvidenceListing(
                no=len(listed) + 1, step=f"{rec.seq}. {rec.task_name}", name=entry.get("name", ""),
                media_type=entry["media_type"], size=entry["size"], sha256=entry["sha256"],
                added_by=names.get(entry["added_by"], entry["added_by"]), added_at=added_at,
                device_time=_device_time(claims), note=entry.get("note") or "",
                photo=_photo(svc, entry["sha256"]) if photo else None))
    return listed


def _device_time(claims: dict) -> str:
    """The camera's own time (EXIF DateTimeOriginal, with its offset when it wrote one) and the camera."""
    taken = str(claims.get("taken") or "").replace("T", " ")
    camera = str(claims.get("camera") or "")
    return f"{taken}（{camera}）" if taken and camera else taken


def _photo(svc: Services, sha256: str) -> Callable[[], PagePhoto]:
    def make() -> PagePhoto:
        try:
            with svc.blobs.open(sha256) as stream:
                return page_photo(stream)
        except NotFound:
            return PagePhoto(None, problem="原件在证据文件库中缺失 (the original is missing from the evidence store)")

    return make


def _diagrams(definition: LoadedDefinition, done: set[str], current: set[str]) -> list[tuple[str, str]]:
    """The main procedure, then each sub-process (合议, 听证, 公示, 执行) the case has a step in."""
    entry = f"{definition.entry_process_id}.bpmn"
    files = definition.bpmn_files()
    out = []
    for name in sorted(files, key=lambda n: (n != entry, n)):
        root = ET.fromstring(files[name])
        process = root.find(f"{{{BPMN_NS}}}process")
        ids = {el.get("id") for el in root.iter() if el.get("id")}
        if name != entry and not ids & ((done - {"start"}) | current):
            continue
        title = (process.get("name") if process is not None else None) or name
        out.append((f"办案流程图：{title}" if name == entry else f"子流程：{title}", bpmn_to_svg(files[name], done, current)))
    return out


def _enum_title(schema: dict, field: str, value: str) -> str:
    """The Chinese label the intake form gives a coded value (x-enum-titles), else the value itself."""
    prop = schema.get("properties", {}).get(field, {})
    values, titles = prop.get("enum", []), prop.get("x-enum-titles", [])
    return titles[values.index(value)] if value in values and len(titles) == len(values) else value


def _step_name(definition: object, spec_id: str) -> str:
    """The step's Chinese name from the model (受理审查, 法制审核 …); the intake is the start event."""
    try:
        return definition.task_meta(spec_id).name  # type: ignore[attr-defined]
    except KeyError:
        return "投诉举报登记" if spec_id == "start" else spec_id
