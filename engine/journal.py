"""The case journal: step record → signature → hash chain → Merkle log leaf, inside the caller's transaction.

`complete_task` and `open_case` call `unlock_signer` (the officer's PIN opens the key; a wrong PIN, a blocked
key, a revoked or expired certificate is a `SigningError` and nothing of the step is written — a wrong PIN is
counted, engine/officer_keys.py) and then `record_step` as
their last write, so the record, the workflow state and the task rows commit together or not at all.

The log (RFC 9162, one for all cases) keeps its compact range — the hashes of the perfect subtrees that
cover it, largest first — in the single `log_state` row. An append locks that row (`FOR UPDATE` on
PostgreSQL; SQLite's writer lock already serialises) as late as possible, updates O(log n) hashes and
inserts one leaf: it never reads `log_leaves`. Tree heads are signed from the same row by
`sign_tree_head_if_grown` (the worker, `casetrail log head`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from cryptography import x509
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine.agency_seals import seal_name
from engine.db.sealed_tables import SealedValueRow
from engine.db.tables import (
    CaseRow,
    CertificateRow,
    LogLeafRow,
    LogStateRow,
    StepRecordRow,
    TaskRow,
    TaskUserRow,
    TreeHeadRow,
    UserKeyRow,
)
from engine.errors import ConfigurationError, Conflict, SigningError, ValidationError
from engine.officer_keys import officer_kek, open_officer_key, wrap_new_key
from engine.services import Services
from engine.values import Clock, RecordedDocument
from signatures.algorithms import generate_private_key
from signatures.canonical import canonical_json
from signatures.errors import SignatureError
from signatures.evidence import EVIDENCE_KEY  # where a record's form lists the files the step takes
from signatures.keys import KeySigner, encrypt_private_key
from signatures.merkle import EMPTY_ROOT, leaf_hash, node_hash
from signatures.pki import (
    CertRole,
    Revocation,
    certificate_pem,
    fingerprint,
    issue_officer_certificate,
    load_certificate,
    make_crl,
)
from signatures.records import GENESIS_HASH, DocumentRef, SignedRecord, StepRecord, is_model_step, sign_record
from signatures.sealing import Disclosure, seal_form
from signatures.treehead import SignedTreeHead, TreeHead, sign_tree_head

OFFICER_VALIDITY = dt.timedelta(days=3 * 365)
MIN_PIN_LENGTH = 6
VOTES_KEY = "_signed_votes"
# A hand-over on the platform (engine/usecases/handover.py): the sender's record names the case it opened, and the
# sender's record of the answer names the receiving case's record it rests on.
HAND_OVER_KEY = "_hand_over"
ANSWERED_KEY = "_answered_by"
# The intake record (seq 1) states the settings the case runs with (its agency's, engine/agencies.py, as in force
# when it was opened): the model reads them from the case's data all its life, so `verify` and an auditor's
# replay must read them from what was signed, not from settings changed since (docs/architecture.md).
SETTINGS_KEY = "_settings"
LOG_STATE_ID = 1


# --- agency and officer certificates ------------------------------------------------------------
AGENCY_ROLES = (CertRole.CA, CertRole.SEAL, CertRole.LOG)  # in the order of AgencyKeys.certificates()


def ensure_agency(svc: Services, session: Session, now: dt.datetime) -> None:
    """Create the root CA, seal and log keys on first use (`casetrail init`) and register their certificates."""
    keys = svc.agency_keys
    if not keys.exists():
        if session.scalar(select(CertificateRow.id).where(CertificateRow.role == CertRole.CA.value).limit(1)):
            raise ConfigurationError("数据库已有机构根证书，但机构密钥文件缺失：请恢复密钥目录 (the agency keys are "
                                     "missing but the database has a root certificate: restore the key directory)")
        name = svc.settings.agency.name
        keys.create(name, seal_name(name), now=now, agency_code=svc.settings.agency.code)
    _store_agency_certificates(session, keys.certificates())
    officer_kek(svc, session)  # and the officers' key-encryption key beside them, made here if there is none


def _store_agency_certificates(session: Session, certificates: Mapping[str, x509.Certificate]) -> None:
    for role, cert in zip(AGENCY_ROLES, certificates.values(), strict=True):
        _store_certificate(session, cert, role=role.value, user_id=None)


def signed_so_far(session: Session) -> tuple[int, int]:
    """(step records, officer certificates): what the agency keys have vouched for, directly or by a chain."""
    records = session.scalar(select(func.count()).select_from(StepRecordRow)) or 0
    officers = session.scalar(select(func.count()).select_from(CertificateRow)
                              .where(CertificateRow.role == CertRole.OFFICER.value)) or 0
    return records, officers


def agency_valid_since(svc: Services) -> dt.datetime | None:
    """From when all three agency certificates are valid (None: no keys yet)."""
    if not svc.agency_keys.exists():
        return None
    return max(cert.not_valid_before_utc for cert in svc.agency_keys.certificates().values())


def recreate_agency_keys(svc: Services, now: dt.datetime) -> None:
    """Replace the root CA, seal and log keys by new ones valid from `now`, with their certificate rows.

    Only while they have signed nothing: a replaced root orphans every certificate it issued and every
    record signed under it. The check runs in the transaction that swaps the rows, so a step signed
    meanwhile makes this refuse (Conflict) with nothing changed.
    """
    def register(certificates: dict[str, x509.Certificate]) -> None:
        with svc.uow() as work:
            session = work.session
            records, officers = signed_so_far(session)
            if records or officers:
                raise Conflict(f"机构密钥已签发证书或签署记录，不能替换 (the agency keys have already vouched for "
                               f"{officers} officer certificates and {records} step records: they cannot be replaced)")
            session.execute(delete(CertificateRow).where(CertificateRow.user_id.is_(None),
                                                         CertificateRow.role.in_([r.value for r in AGENCY_ROLES])))
            _store_agency_certificates(session, certificates)
            work.commit()

    name = svc.settings.agency.name
    svc.agency_keys.replace(name, seal_name(name), now=now, register=register, agency_code=svc.settings.agency.code)


def _store_certificate(session: Session, cert: x509.Certificate, *, role: str, user_id: str | None) -> CertificateRow:
    fp = fingerprint(cert)
    row = session.scalar(select(CertificateRow).where(CertificateRow.fingerprint == fp))
    if row is None:
        row = CertificateRow(serial=str(cert.serial_number), user_id=user_id, role=role, pem=certificate_pem(cert),
                             fingerprint=fp, not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                             revoked_at=None)
        session.add(row)
    return row


def check_pin(pin: str | None) -> str:
    """A new signing PIN: at least 6 characters (the scrypt cost is what makes guessing it slow)."""
    if pin is None or len(pin) < MIN_PIN_LENGTH or pin != pin.strip():
        raise ValidationError("签名PIN码无效 (invalid signing PIN)",
                              {"pin": f"签名PIN码至少 {MIN_PIN_LENGTH} 位，首尾无空格 (at least {MIN_PIN_LENGTH} "
                                      "characters, no surrounding spaces)"})
    return pin


def issue_officer_key(svc: Services, session: Session, *, user_id: str, name: str, pin: str,
                      now: dt.datetime) -> CertificateRow:
    """A new officer key pair and certificate; the private key is stored only encrypted under `pin` and wrapped
    under the officers' key-encryption key (engine/officer_keys.py)."""
    ensure_agency(svc, session, now)
    key = generate_private_key()
    cert = issue_officer_certificate(svc.agency_keys.authority(), user_id=user_id, name=name,
                                     public_key=key.public_key(), now=now, valid_for=OFFICER_VALIDITY)
    row = _store_certificate(session, cert, role=CertRole.OFFICER.value, user_id=user_id)
    pem = encrypt_private_key(key, check_pin(pin), svc.kdf_cost)
    session.add(UserKeyRow(fingerprint=row.fingerprint, user_id=user_id, active=True, created_at=now, pin_failures=0,
                           encrypted_pem=wrap_new_key(svc, session, pem, user_id=user_id, fingerprint=row.fingerprint)))
    return row


def revoke_officer_keys(session: Session, user_id: str, now: dt.datetime) -> list[str]:
    """Deactivate the user's keys and revoke their certificates from `now` (earlier signatures stay valid)."""
    revoked = []
    for key in session.scalars(select(UserKeyRow).where(UserKeyRow.user_id == user_id, UserKeyRow.active.is_(True))):
        key.active = False
        cert = session.scalar(select(CertificateRow).where(CertificateRow.fingerprint == key.fingerprint))
        if cert is not None and cert.revoked_at is None:
            cert.revoked_at = now
        revoked.append(key.fingerprint)
    return revoked


def unlock_signer(svc: Services, session: Session, user_id: str, pin: str | None, now: dt.datetime) -> KeySigner:
    """The officer's signer for this step; refuses (SigningError) a missing/wrong PIN, a blocked key or an unusable
    certificate. `session` may be read-only: a wrong PIN is counted in a transaction of its own (officer_keys)."""
    if not pin:
        raise SigningError("签署本环节需要签名PIN码 (a signing PIN is required to sign this step)")
    key = session.scalar(select(UserKeyRow).where(UserKeyRow.user_id == user_id, UserKeyRow.active.is_(True))
                         .order_by(UserKeyRow.created_at.desc()).limit(1))
    cert = None if key is None else session.scalar(
        select(CertificateRow).where(CertificateRow.fingerprint == key.fingerprint))
    if key is None:
        revoked = session.scalar(select(CertificateRow.revoked_at).where(CertificateRow.user_id == user_id)
                                 .order_by(CertificateRow.id.desc()).limit(1))
        if revoked is not None:
            raise SigningError(f"{user_id} 的签名证书已于 {revoked:%Y-%m-%d %H:%M}Z 吊销，请管理员重新签发 (certificate "
                               f"revoked; an administrator must issue a new one: casetrail user rekey {user_id})")
    if key is None or cert is None:
        raise SigningError(f"{user_id} 没有有效的签名证书，请管理员签发 (no valid signing certificate; "
                           f"an administrator must issue one: casetrail user rekey {user_id})")
    if cert.revoked_at is not None and now >= cert.revoked_at:
        raise SigningError(f"{user_id} 的签名证书已于 {cert.revoked_at:%Y-%m-%d %H:%M}Z 吊销 (certificate revoked)")
    if not cert.not_before <= now <= cert.not_after:
        raise SigningError(f"{user_id} 的签名证书不在有效期内 (certificate not valid now: "
                           f"{cert.not_before:%Y-%m-%d} – {cert.not_after:%Y-%m-%d})")
    try:
        return open_officer_key(svc, key, load_certificate(cert.pem), pin, now)
    except SigningError:
        raise
    except SignatureError as exc:
        raise SigningError(f"签名密钥不可用 (the signing key cannot be used): {exc}") from exc


_keys, _certificates = UserKeyRow.__table__.c, CertificateRow.__table__.c
# Built once, on the tables: SQLAlchemy keeps its compiled form (every step's write asks it under the lock).
_KEY_STATE = select(_keys.active, _certificates.revoked_at).join(
    CertificateRow.__table__, _certificates.fingerprint == _keys.fingerprint).where(
    _keys.fingerprint == bindparam("fingerprint"))


def check_key_still_valid(session: Session, fingerprint: str, now: dt.datetime) -> None:
    """A key unlocked before the write lock may have been revoked or replaced since: checked under the lock."""
    row = session.execute(_KEY_STATE, {"fingerprint": fingerprint}).first()
    if row is None or not row.active or (row.revoked_at is not None and row.revoked_at <= now):
        raise SigningError("签名证书在签署过程中被吊销或更换，未保存 (the signing certificate was revoked or "
                           "replaced while this step was being signed; nothing was saved)")


def current_crl(svc: Services, session: Session, now: dt.datetime) -> x509.CertificateRevocationList:
    """A CRL issued now by the agency CA, listing every revoked certificate with its revocation moment."""
    revoked = [Revocation(int(serial), at) for serial, at in session.execute(
        select(CertificateRow.serial, CertificateRow.revoked_at).where(CertificateRow.revoked_at.is_not(None)))]
    return make_crl(svc.agency_keys.authority(), revoked, now)


def all_certificates(session: Session) -> dict[str, x509.Certificate]:
    """Every certificate the agency issued, by fingerprint."""
    return {fp: load_certificate(pem) for fp, pem in session.execute(select(CertificateRow.fingerprint,
                                                                             CertificateRow.pem))}


# --- step records --------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepFacts:
    """What a step record states, gathered by the use case (the signer adds certificate and time)."""

    case: CaseRow
    definition_sha256: str
    task_id: str | None
    task_spec_id: str
    task_name: str
    role: str
    actor: str
    actor_name: str
    form_data: Mapping[str, Any]
    documents: Sequence[RecordedDocument] = ()
    assignments: Mapping[str, Sequence[str]] | None = None
    # {JSON Pointer: class} of the form's confidential fields (engine.rules.confidential, from the form schema):
    # the record signs a salted digest of each instead of its value, which is stored beside the record.
    confidential: Mapping[str, str] | None = None


def assignments_of(session: Session, created: Sequence[TaskRow]) -> dict[str, list[str]]:
    """{task spec: users} for the tasks this step handed to named people (assignee or named candidates)."""
    restricted = [t.id for t in created if t.restricted]
    candidates: dict[str, set[str]] = {}
    if restricted:
        for task_id, user_id in session.execute(select(TaskUserRow.task_id, TaskUserRow.user_id).where(
                TaskUserRow.task_id.in_(restricted), TaskUserRow.kind == "candidate")):
            candidates.setdefault(task_id, set()).add(user_id)
    out: dict[str, set[str]] = {}
    for task in created:
        users = candidates.get(task.id, set()) | ({task.assignee} if task.assignee else set())
        if users:
            out.setdefault(task.spec_id, set()).update(users)
    return {spec: sorted(users) for spec, users in sorted(out.items())}


def _last_records(limit: int) -> Any:
    records = StepRecordRow.__table__.c
    return (select(records.seq, records.task_spec_id, records.actor, records.record_hash)
            .where(records.case_id == bindparam("case_id")).order_by(records.seq.desc()).limit(limit))


# Built once, on the table: every step reads its chain's end when prepared and again under the write lock.
_CHAIN_END, _CHAIN_TAIL = _last_records(1), _last_records(50)


def chain_tail(session: Session, case_id: int,
               is_vote: Callable[[str], bool] | None = None) -> tuple[tuple[int, str], list[dict[str, Any]]]:
    """The case's chain end — (seq, record hash) of its last record, (0, genesis) without records — and, with
    `is_vote`, the signed votes (multi-instance records) immediately before this step, oldest first: one read
    when the last record is a step that is not a vote (most steps), two when it may end a deliberation.

    The first record after a deliberation lists the votes under `_signed_votes` in its form data: the record
    that acts on the result names each vote it rests on by seq, actor and record hash.
    """
    rows = session.execute(_CHAIN_END, {"case_id": case_id}).all()
    end = (rows[0].seq, rows[0].record_hash) if rows else (0, GENESIS_HASH)
    if is_vote is None or not rows or (is_model_step(rows[0].task_spec_id) and not is_vote(rows[0].task_spec_id)):
        return end, []  # no vote right before this step: the newest record alone says so
    votes: list[dict[str, Any]] = []
    for seq, spec_id, actor, record_hash in session.execute(_CHAIN_TAIL, {"case_id": case_id}).all():
        if not is_model_step(spec_id):
            continue  # a panel member replaced mid-deliberation: the hand-over sits between the votes
        if not is_vote(spec_id):
            break
        votes.append({"seq": seq, "actor": actor, "task_spec_id": spec_id, "record_hash": record_hash})
    return end, votes[::-1]


class RecordsMoved(Conflict):
    """Another record joined the case's chain after this step was prepared: prepare it again."""


@dataclass(frozen=True)
class SignedStep:
    """A step record signed before the write lock; `append_step` chains it if the chain has not moved."""

    facts: StepFacts
    signed: SignedRecord
    seq: int
    prev_hash: str
    now: dt.datetime
    disclosures: Mapping[str, Disclosure] = dc_field(default_factory=dict)  # the sealed values and their salts


def chain_end(session: Session, case_id: int) -> tuple[int, str]:
    """(seq, record hash) of the case's last record; (0, genesis) for a case without records."""
    return chain_tail(session, case_id)[0]


def sign_step(facts: StepFacts, signer: KeySigner, now: dt.datetime, *, after: tuple[int, str],
              case_id: int, case_number: str) -> SignedStep:
    """Build and sign the record that follows `after` in the case's chain. Pure: nothing is read or written."""
    seq, prev_hash = after[0] + 1, after[1]
    form, sealed, disclosures = seal_form(facts.form_data, facts.confidential) if facts.confidential \
        else (facts.form_data, {}, {})
    record = StepRecord.create(
        case_id=str(case_id), case_number=case_number, seq=seq, task_spec_id=facts.task_spec_id,
        task_name=facts.task_name, role=facts.role, definition_sha256=facts.definition_sha256, signer=signer,
        actor=facts.actor, actor_name=facts.actor_name, form_data=form,
        documents=[DocumentRef(name=d.file_name, kind=d.kind, sha256=d.sha256) for d in facts.documents],
        prev_hash=prev_hash, signed_at=now, assignments=facts.assignments, sealed=sealed)
    try:
        signed = sign_record(record, signer)
    except (SignatureError, TypeError, ValueError) as exc:
        raise SigningError(f"步骤记录无法签署 (the step record cannot be signed): {exc}") from exc
    return SignedStep(facts, signed, seq, prev_hash, now, disclosures)


def append_step(session: Session, case_id: int, step: SignedStep) -> SignedStep:
    """Chain a signed step after the case's last record and append it to the log. Call it last: it takes the
    log lock. RecordsMoved if the chain moved since the step was signed (nothing is written then)."""
    # What the transaction changed so far is written before the log lock is taken: the statements below are
    # the tables' own, which do not flush the session first.
    session.flush()
    if chain_end(session, case_id) != (step.seq - 1, step.prev_hash):
        raise RecordsMoved("案件记录已被他人更新，请重试 (the case's record chain moved meanwhile)")
    signed = step.signed
    leaf = leaf_hash(signed.record_digest)
    index = _take_log_index(session, leaf)
    # INSERT statements of the tables, built once, not ORM objects: the rows are written once and never changed
    # in this transaction, so the unit of work's bookkeeping (identity map, flush ordering, RETURNING of ids)
    # is only cost.
    session.execute(_INSERT_RECORD, {
        "case_id": case_id, "seq": step.seq, "task_id": step.facts.task_id, "task_spec_id": step.facts.task_spec_id,
        "actor": step.facts.actor, "canonical": signed.canonical, "signature": signed.signature,
        "cert_fingerprint": signed.cert_fingerprint, "record_hash": signed.record_hash, "prev_hash": step.prev_hash,
        "log_index": index, "signed_at": step.now})
    kinds = step.facts.confidential or {}
    if step.disclosures:
        session.execute(insert(SealedValueRow), [
            {"case_id": case_id, "seq": step.seq, "field": pointer, "kind": kinds[pointer], "salt": disclosure.salt,
             "value": canonical_json(disclosure.value).decode("utf-8")}
            for pointer, disclosure in step.disclosures.items()])
    session.execute(_INSERT_LEAF, {"index": index, "leaf_hash": leaf, "case_id": case_id, "seq": step.seq})
    return step


_INSERT_RECORD, _INSERT_LEAF = StepRecordRow.__table__.insert(), LogLeafRow.__table__.insert()


def record_step(session: Session, facts: StepFacts, signer: KeySigner, now: dt.datetime) -> SignedStep:
    """Sign the next record of the case and append it to the log, in one go (steps that are not prepared
    ahead: hand-overs, repairs). Call it last: it takes the log lock."""
    case = facts.case
    signed = sign_step(facts, signer, now, after=chain_end(session, case.id), case_id=case.id,
                       case_number=case.number)
    return append_step(session, case.id, signed)


# --- the Merkle log ------------------------------------------------------------------------------
def frontier_append(frontier: list[bytes], leaf: bytes, size: int) -> list[bytes]:
    """Add leaf number `size` to the compact range: merge equal-sized subtrees (one per trailing 1 bit)."""
    out = [*frontier, leaf]
    i = size
    while i & 1:
        right = out.pop()
        out[-1] = node_hash(out[-1], right)
        i >>= 1
    return out


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """RFC 9162 root from the compact range: fold the subtrees right to left."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


def _frontier(data: bytes) -> list[bytes]:
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def append_leaf(session: Session, leaf: bytes, case_id: int, seq: int) -> int:
    """Append one leaf under the log-state row lock; returns its index."""
    index = _take_log_index(session, leaf)
    session.execute(_INSERT_LEAF, {"index": index, "leaf_hash": leaf, "case_id": case_id, "seq": seq})
    return index


def _take_log_index(session: Session, leaf: bytes) -> int:
    """Lock the log state, fold `leaf` into its frontier and grow it by one; the leaf's index (its row is the
    caller's to insert). Read and written by statement: the row is the log's, not the session's to keep."""
    state = session.execute(_LOCK_LOG_STATE).one_or_none()
    if state is None:
        raise ConfigurationError("日志状态缺失 (log_state row missing: run the migrations)")
    index = state.size
    session.execute(_GROW_LOG_STATE, {"new_frontier": b"".join(frontier_append(_frontier(state.frontier), leaf, index)),
                                      "new_size": index + 1})
    return index


_log_state = LogStateRow.__table__
# Built once (every step appends a leaf under the lock).
_LOCK_LOG_STATE = select(_log_state.c.size, _log_state.c.frontier).where(
    _log_state.c.id == LOG_STATE_ID).with_for_update()
_GROW_LOG_STATE = update(_log_state).where(_log_state.c.id == LOG_STATE_ID).values(
    frontier=bindparam("new_frontier"), size=bindparam("new_size"))


def latest_tree_head(session: Session) -> SignedTreeHead | None:
    signed = session.scalar(select(TreeHeadRow.signed).order_by(TreeHeadRow.id.desc()).limit(1))
    return None if signed is None else SignedTreeHead.from_json(signed)


def tree_head_of_size(session: Session, size: int) -> SignedTreeHead | None:
    signed = session.scalar(select(TreeHeadRow.signed).where(TreeHeadRow.size == size)
                            .order_by(TreeHeadRow.id.desc()).limit(1))
    return None if signed is None else SignedTreeHead.from_json(signed)


def sign_tree_head_if_grown(svc: Services, *, clock: Clock) -> tuple[SignedTreeHead | None, bool]:
    """(latest signed head, whether it was signed now). A new head is signed only when the log grew."""
    now = clock()
    with svc.uow() as work:
        session = work.session
        state = session.get(LogStateRow, LOG_STATE_ID)
        head = latest_tree_head(session)
        if state is None or state.size == 0 or (head is not None and head.tree_head.size >= state.size):
            return head, False
        # A head vouches that every record in it existed at its timestamp; on several hosts a slow clock must
        # not date the head before its newest record.
        newest = session.scalar(select(StepRecordRow.signed_at).where(StepRecordRow.log_index == state.size - 1))
        moment = max(now, newest) if newest is not None else now
        signed = sign_tree_head(TreeHead.at(state.size, frontier_root(_frontier(state.frontier)), moment),
                                svc.agency_keys.log_signer())
        session.add(TreeHeadRow(size=state.size, root_hash=signed.tree_head.root_hash,
                                timestamp=signed.tree_head.moment, cert_fingerprint=signed.cert_fingerprint,
                                signature=signed.signature, signed=signed.to_json()))
        work.commit()
        return signed, True


def log_leaf_hashes(session: Session) -> list[bytes]:
    """All leaf hashes in index order (auditing and proofs only; appends never read them)."""
    return list(session.scalars(select(LogLeafRow.leaf_hash).order_by(LogLeafRow.index)))


__all__ = ["AGENCY_ROLES", "EVIDENCE_KEY", "RecordsMoved", "SignedStep", "StepFacts", "agency_valid_since",
           "append_leaf", "append_step", "assignments_of", "chain_end", "chain_tail", "check_key_still_valid", "check_pin",
           "current_crl",
           "ensure_agency", "frontier_append", "frontier_root", "issue_officer_key", "latest_tree_head",
           "record_step", "recreate_agency_keys", "revoke_officer_keys", "sign_step", "sign_tree_head_if_grown",
           "signed_so_far", "unlock_signer"]
