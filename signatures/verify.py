"""verify_case: re-check a whole case and report, per step, what does and does not add up.

Inputs are plain values (records, certificates, CRLs via a `TrustStore`, a signed tree head and
proofs, document bytes) so the same function serves the engine (`casetrail verify CASE`, from its
tables) and the offline bundle verifier. Two facts only the engine knows are injected as callables:
`path_check` (a BPMN replay - this library must not import SpiffWorkflow) and `expected_actor`
(who held each task, from the engine's task table).

What can be detected offline, from records alone: a step signed by someone other than the user the
latest earlier record *assigned* that task to (`StepRecord.assignments`). What cannot: a wrong
assignment made by the assigning officer themself, or tasks no earlier record assigned (group tasks
any role member may claim) - those steps report `assignment: not_checked`; the engine's
`expected_actor` closes that gap online.

Sealed fields (version-2 records, docs/evidence-bundle.md §1a): `disclosures` (by seq) open them; each disclosed
value and salt must give its signed digest, and the path check sees each record *opened* — its form_data with the
disclosed values put back, the pointers of `sealed` it lacks withheld. Online every field must be disclosed
(`all_disclosed`: the database holds them all); a bundle may withhold some (reported `not_checked`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from cryptography import x509

from signatures.algorithms import Algorithm, verify
from signatures.chain import TrustStore, ValidatedCertificate, check_validity
from signatures.errors import CertificateError, SignatureError
from signatures.evidence import EvidenceLookup, check_evidence
from signatures.merkle import InclusionProof, InclusionVerifier, leaf_hash
from signatures.pki import CertRole, index_certificates
from signatures.records import GENESIS_HASH, SignedRecord, StepRecord, format_local, parse_utc
from signatures.report import CaseReport, Check, CheckResult, Status, StepResult, failed, not_checked, passed
from signatures.sealing import Disclosure, open_form
from signatures.treehead import SignedTreeHead, verify_extends, verify_tree_head

# Results are frozen: every plain pass of a check can be the same object (nine per record audited).
_PASSED = {check: CheckResult(check, Status.PASSED) for check in Check}
_NO_DOCUMENTS = passed(Check.DOCUMENTS, "the step produced no documents")


@dataclass(frozen=True)
class PathResult:
    """Outcome of the engine's BPMN replay; `seq` names the first step the model does not allow."""

    passed: bool
    reason: str = ""
    seq: int | None = None
    # Passed as far as it went, but stopped at step `seq` where the model reads a withheld value: not_checked.
    stopped: bool = False


# Given the records opened (module docstring): a record's form_data holds every disclosed value.
PathCheck = Callable[[list[StepRecord]], PathResult | None]
ExpectedActor = Callable[[StepRecord], Collection[str] | None] | Mapping[int, Collection[str]]


@dataclass
class _Context:
    trust: TrustStore
    certs: dict[str, x509.Certificate]
    head: SignedTreeHead | None
    proofs: Mapping[int, InclusionProof]
    documents: Mapping[str, bytes] | None
    expected_actor: ExpectedActor | None
    withheld_documents: Mapping[str, str] = field(default_factory=dict)
    validated: dict[str, ValidatedCertificate | SignatureError] = field(default_factory=dict)
    head_moment: dt.datetime | None = None
    inclusion: InclusionVerifier | None = None
    assigned: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)

    def validated_cert(self, fp: str) -> ValidatedCertificate:
        """Chain-validate the certificate named by a record once per case (cached, raises)."""
        hit = self.validated.get(fp)
        if hit is None:
            cert = self.certs.get(fp)
            try:
                if cert is None:
                    raise CertificateError(f"the signer's certificate {fp[:16]}… is not provided")
                hit = self.trust.validate(cert, fp)
            except SignatureError as exc:
                hit = exc
            self.validated[fp] = hit
        if isinstance(hit, SignatureError):
            raise hit
        return hit


def verify_case(records: Sequence[SignedRecord], *, trust: TrustStore | None,
                certificates: Iterable[x509.Certificate] | Mapping[str, x509.Certificate], tree_head: SignedTreeHead | None,
                inclusion_proofs: Mapping[int, InclusionProof], documents: Mapping[str, bytes] | None = None,
                path_check: PathCheck | None = None, expected_actor: ExpectedActor | None = None,
                known_head: SignedTreeHead | None = None, consistency_proof: Sequence[bytes] | None = None,
                extra_case_checks: Sequence[CheckResult] = (),
                inclusion_verifier: InclusionVerifier | None = None,
                disclosures: Mapping[int, Mapping[str, Disclosure]] | None = None, all_disclosed: bool = False,
                withheld_documents: Mapping[str, str] | None = None,
                evidence: EvidenceLookup | None = None) -> CaseReport:
    """Verify every record of one case, in the order given (which must be seq order).

    `inclusion_proofs` are keyed by record seq and must be against `tree_head`. `documents` maps a
    document's claimed sha256 to its bytes (None: documents not checked). `known_head` is an older
    head the auditor kept; with `consistency_proof` it shows the log was not truncated or rewritten.
    An auditor checking many cases against one head passes one `inclusion_verifier` for it (built with
    the head's root and size; any other is not used) so that nodes proven once are not hashed again.
    `disclosures` open the sealed fields of version-2 records (by seq; `all_disclosed`: a field without one fails);
    `withheld_documents` ({sha256: why}) are documents the bundle's signed manifest says it leaves out.
    `evidence` says what was found of each evidence file a record lists (signatures/evidence.py; None: the records
    that list files report `evidence: not_checked`).
    """
    first = records[0].record if records else None
    case_checks = list(extra_case_checks)
    if trust is None:
        case_checks.append(failed(Check.TRUST_ROOT, "no trust root given: nothing can be trusted"))
    if not records:
        case_checks.append(failed(Check.RECORDS, "no step records: nothing to verify"))
    if trust is None or not records:
        return CaseReport(first.case_id if first else "", first.case_number if first else "",
                          tuple(case_checks), ())
    # A dict is already the index (the engine passes one per run): a copy per case buys nothing.
    certs = certificates if type(certificates) is dict else index_certificates(certificates)
    head_check = _check_head(tree_head, trust, certs)
    case_checks.append(head_check)
    if known_head is not None:
        case_checks.append(_check_consistency(known_head, tree_head, consistency_proof, trust, certs))
    opened, disclosure_checks = _open(records, disclosures or {}, all_disclosed)
    path = _run_path_check(path_check, opened)
    if path.seq is None or path.seq not in {s.record.seq for s in records} or path.result.status is Status.NOT_CHECKED:
        case_checks.append(path.result)
    ctx = _Context(trust, certs, tree_head if head_check.passed else None, inclusion_proofs, documents,
                   expected_actor, dict(withheld_documents or {}))
    if ctx.head is not None:
        ctx.head_moment = ctx.head.tree_head.moment
        root, size = ctx.head.tree_head.root_hash, ctx.head.tree_head.size
        usable = inclusion_verifier is not None and (inclusion_verifier.root, inclusion_verifier.tree_size) == (root, size)
        ctx.inclusion = inclusion_verifier if usable else InclusionVerifier(root, size)
    steps = []
    for index, signed in enumerate(records):
        prev = records[index - 1] if index else None
        checks = _check_step(ctx, index, signed, prev, first)
        disclosure = disclosure_checks[index]
        if disclosure is not None:
            checks.append(disclosure)
        rec = signed.record
        files = check_evidence(rec.seq, rec.task_name, rec.form_data, evidence)
        if files is not None:
            checks.append(files)
        if path.seq is not None and path.seq == signed.record.seq and path.result.failed:
            checks.append(path.result)
        steps.append(StepResult(rec.seq, rec.task_spec_id, rec.actor, tuple(checks), rec.task_name))
        for task, users in rec.assignments.items():
            ctx.assigned[task] = (rec.seq, tuple(users))
    return CaseReport(first.case_id, first.case_number, tuple(case_checks), tuple(steps))


def _open(records: Sequence[SignedRecord], disclosures: Mapping[int, Mapping[str, Disclosure]],
          all_disclosed: bool) -> tuple[list[StepRecord], list[CheckResult | None]]:
    """Each record opened by its disclosures, and its `disclosure` check (None: the record seals nothing)."""
    opened: list[StepRecord] = []
    checks: list[CheckResult | None] = []
    for signed in records:
        rec = signed.record
        given = disclosures.get(rec.seq) or {}
        if not rec.sealed and not given:
            opened.append(rec)
            checks.append(None)
            continue
        form, problems, withheld = open_form(rec.form_data, rec.sealed, given)
        opened.append(replace(rec, form_data=form))
        if problems:
            checks.append(failed(Check.DISCLOSURE, "; ".join(problems)))
        elif withheld and all_disclosed:
            checks.append(failed(Check.DISCLOSURE, "; ".join(f"{p}: no stored value opens the signed digest"
                                                                for p in withheld)))
        elif withheld:
            checks.append(not_checked(Check.DISCLOSURE, f"withheld from this bundle: {', '.join(withheld)}"))
        else:
            checks.append(passed(Check.DISCLOSURE, f"{len(rec.sealed)} sealed fields open with their salts"))
    return opened, checks


def _check_head(head: SignedTreeHead | None, trust: TrustStore, certs: dict[str, x509.Certificate]) -> CheckResult:
    if head is None:
        return failed(Check.TREE_HEAD, "no signed tree head: inclusion in the log cannot be shown")
    try:
        verify_tree_head(head, trust, certs)
    except SignatureError as exc:
        return failed(Check.TREE_HEAD, f"tree head signature: {exc}")
    return passed(Check.TREE_HEAD, f"log of {head.tree_head.size} leaves at {head.tree_head.timestamp}")


def _check_consistency(known: SignedTreeHead, head: SignedTreeHead | None, proof: Sequence[bytes] | None,
                       trust: TrustStore, certs: dict[str, x509.Certificate]) -> CheckResult:
    if head is None or proof is None:
        return failed(Check.LOG_CONSISTENCY, "an older tree head was given but no consistency proof to the new one")
    try:
        verify_tree_head(known, trust, certs)
        verify_extends(known, head, proof)
    except SignatureError as exc:
        return failed(Check.LOG_CONSISTENCY, f"against the head of {known.tree_head.timestamp}: {exc}")
    return passed(Check.LOG_CONSISTENCY, f"extends the head of {known.tree_head.timestamp}")


@dataclass(frozen=True)
class _Path:
    result: CheckResult
    seq: int | None


def _run_path_check(path_check: PathCheck | None, records: list[StepRecord]) -> _Path:
    if path_check is None:
        return _Path(not_checked(Check.PATH, "workflow path not checked (no BPMN replay supplied)"), None)
    try:
        outcome = path_check(records)
    except Exception as exc:  # the engine's replay is foreign code: any crash is a failed check, not a pass
        return _Path(failed(Check.PATH, f"the workflow replay could not run: {exc}"), None)
    if outcome is not None and outcome.stopped:
        return _Path(not_checked(Check.PATH, outcome.reason or "the replay stopped at a withheld value"), outcome.seq)
    if outcome is None or outcome.passed:
        return _Path(passed(Check.PATH, "every step is allowed by the process definition"), None)
    return _Path(failed(Check.PATH, outcome.reason or "the process definition does not allow this step"), outcome.seq)


def _check_step(ctx: _Context, index: int, signed: SignedRecord, prev: SignedRecord | None,
                first: StepRecord) -> list[CheckResult]:
    rec = signed.record
    try:
        moment: dt.datetime | None = parse_utc(rec.time_utc)
    except SignatureError:
        moment = None
    checked: ValidatedCertificate | None = None
    cert_error = ""
    try:
        checked = ctx.validated_cert(signed.cert_fingerprint)
    except SignatureError as exc:
        cert_error = str(exc)
    return [
        _signature(ctx, signed, checked, cert_error),
        _certificate(checked, cert_error, moment),
        _actor(rec, checked),
        _sequence(index, rec, first),
        _chain(rec, prev),
        _time(rec, prev, moment),
        _assignment(ctx, rec),
        _inclusion(ctx, signed, moment),
        _documents(ctx, rec),
    ]


def _signature(ctx: _Context, signed: SignedRecord, checked: ValidatedCertificate | None, cert_error: str) -> CheckResult:
    rec = signed.record
    try:
        algorithm = Algorithm.from_name(rec.algorithm)
        if signed.cert_fingerprint != rec.cert_fingerprint:
            return failed(Check.SIGNATURE, "the signature is attributed to a different certificate than the record names")
        cert = ctx.certs.get(rec.cert_fingerprint)
        if cert is None:
            return failed(Check.SIGNATURE, f"the signer's certificate {rec.cert_fingerprint[:16]}… is not provided")
        if checked is not None:  # the chain check found the key's algorithm already
            verify(algorithm, checked.public_key, signed.signature, signed.canonical, key_algorithm=checked.algorithm)
        else:
            verify(algorithm, cert.public_key(), signed.signature, signed.canonical)
    except SignatureError as exc:
        return failed(Check.SIGNATURE, str(exc))
    return _PASSED[Check.SIGNATURE]


def _certificate(checked: ValidatedCertificate | None, cert_error: str, moment: dt.datetime | None) -> CheckResult:
    if checked is None:
        return failed(Check.CERTIFICATE, cert_error)
    if moment is None:
        return failed(Check.CERTIFICATE, "the record's signing time is malformed")
    try:
        check_validity(checked, moment)
    except CertificateError as exc:
        return failed(Check.CERTIFICATE, str(exc))
    if checked.role is not CertRole.OFFICER:
        return failed(Check.CERTIFICATE, f"{checked.subject} is not an officer's signing certificate")
    return _PASSED[Check.CERTIFICATE]


def _actor(rec: StepRecord, checked: ValidatedCertificate | None) -> CheckResult:
    if checked is None:
        return failed(Check.ACTOR, "no usable certificate to compare the actor with")
    if checked.user_id != rec.actor:
        return failed(Check.ACTOR, f"record names actor {rec.actor!r} but the certificate belongs to "
                                   f"user {checked.user_id!r}")
    return _PASSED[Check.ACTOR]


def _sequence(index: int, rec: StepRecord, first: StepRecord) -> CheckResult:
    if rec.case_id != first.case_id or rec.case_number != first.case_number:
        return failed(Check.SEQUENCE, f"record belongs to case {rec.case_number or rec.case_id}, not this case")
    if rec.seq != index + 1:
        return failed(Check.SEQUENCE, f"expected step {index + 1}, found step {rec.seq}: "
                                      "a record is missing, duplicated or out of order")
    return _PASSED[Check.SEQUENCE]


def _chain(rec: StepRecord, prev: SignedRecord | None) -> CheckResult:
    expected = GENESIS_HASH if prev is None else prev.record_hash
    if rec.prev_hash != expected:
        what = "the first record must start the chain" if prev is None else \
            f"prev_hash does not match the hash of step {prev.record.seq}"
        return failed(Check.CHAIN, f"{what}: a record was removed, inserted, reordered or altered")
    return _PASSED[Check.CHAIN]


def _time(rec: StepRecord, prev: SignedRecord | None, moment: dt.datetime | None) -> CheckResult:
    if moment is None:
        return failed(Check.TIME, f"signing time {rec.time_utc!r} is malformed")
    try:  # the signer's own spelling (records.format_times); strftime costs more than the rest of this check
        local = format_local(moment)
    except OverflowError:
        return failed(Check.TIME, f"signing time {rec.time_utc} has no Beijing time (out of range)")
    if rec.time_local != local:
        return failed(Check.TIME, f"local time {rec.time_local} does not equal UTC time {rec.time_utc}")
    if prev is not None and prev.record.time_utc > rec.time_utc:  # same fixed format: text order = time order
        return failed(Check.TIME, f"signed at {rec.time_utc}, before the previous step ({prev.record.time_utc}): backdated")
    return _PASSED[Check.TIME]


def _assignment(ctx: _Context, rec: StepRecord) -> CheckResult:
    holder: Collection[str] | None = None
    if ctx.expected_actor is not None:
        holder = ctx.expected_actor(rec) if callable(ctx.expected_actor) else ctx.expected_actor.get(rec.seq)
        if holder is not None and rec.actor not in holder:
            return failed(Check.ASSIGNMENT, f"signed by {rec.actor!r}, but task {rec.task_spec_id!r} was held by "
                                            f"{sorted(holder)} (task table)")
    recorded = ctx.assigned.get(rec.task_spec_id)
    if recorded is not None and rec.actor not in recorded[1]:
        return failed(Check.ASSIGNMENT, f"signed by {rec.actor!r}, but step {recorded[0]} assigned task "
                                        f"{rec.task_spec_id!r} to {list(recorded[1])}")
    if holder is None and recorded is None:
        return not_checked(Check.ASSIGNMENT, f"no earlier record assigns task {rec.task_spec_id!r}")
    return _PASSED[Check.ASSIGNMENT]


def _inclusion(ctx: _Context, signed: SignedRecord, moment: dt.datetime | None) -> CheckResult:
    head = ctx.head
    if head is None:
        return failed(Check.LOG_INCLUSION, "no valid signed tree head to check inclusion against")
    proof = ctx.proofs.get(signed.record.seq)
    if proof is None:
        return failed(Check.LOG_INCLUSION, "no inclusion proof for this record")
    if proof.tree_size != head.tree_head.size:
        return failed(Check.LOG_INCLUSION, f"proof is for a log of {proof.tree_size} leaves, the head has "
                                           f"{head.tree_head.size}")
    try:
        verifier = ctx.inclusion or InclusionVerifier(head.tree_head.root_hash, head.tree_head.size)
        verifier.verify(leaf_hash(signed.record_digest), proof)
    except SignatureError as exc:
        return failed(Check.LOG_INCLUSION, str(exc))
    if moment is not None and ctx.head_moment is not None and moment > ctx.head_moment:
        return failed(Check.LOG_INCLUSION, f"record dated {signed.record.time_utc}, after the tree head "
                                           f"({head.tree_head.timestamp}) that already contains it")
    return passed(Check.LOG_INCLUSION, f"leaf {proof.leaf_index}")


def _documents(ctx: _Context, rec: StepRecord) -> CheckResult:
    if not rec.documents:
        return _NO_DOCUMENTS
    if ctx.documents is None:
        return not_checked(Check.DOCUMENTS, "document bytes not supplied")
    withheld = []
    for doc in rec.documents:
        data = ctx.documents.get(doc.sha256)
        if data is None and doc.sha256 in ctx.withheld_documents:
            withheld.append(f"{doc.name} ({doc.kind}): {ctx.withheld_documents[doc.sha256]}")
            continue
        if data is None:
            return failed(Check.DOCUMENTS, f"document {doc.name} ({doc.kind}) is missing")
        if hashlib.sha256(data).hexdigest() != doc.sha256:
            return failed(Check.DOCUMENTS, f"document {doc.name} ({doc.kind}) was altered: its bytes do not "
                                           "match the signed hash")
    if withheld:
        return not_checked(Check.DOCUMENTS, f"withheld from this bundle (seal-signed manifest): {'; '.join(withheld)}")
    return _PASSED[Check.DOCUMENTS]
