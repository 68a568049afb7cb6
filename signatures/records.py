"""The step record: one signed statement per completed step of a case.

A record says who (actor + certificate) did which task of which case, under which process
definition, with which form data and documents, when, and after which previous record
(`prev_hash`). Its canonical bytes (RFC 8785) are what the officer signs; their SHA-256 is the next
record's `prev_hash` and the Merkle log's leaf data (design.md: "append the record's hash"). The format is specified in
docs/evidence-bundle.md so third parties can verify it without this code.

`assignments` (an addition to the field list in the brief) records who the step handed tasks to:
{task_spec_id: [user ids]}. It lets an offline verifier detect a step signed by a valid officer
who did not hold the task (see `verify.py`).

A record that seals confidential fields (the complainant's identity, a vote: `sealing.py`) is format version 2:
the same fields and `sealed`, {JSON Pointer into form_data: salted digest}, the sealed values absent from
form_data. A record that seals nothing stays version 1, byte for byte what earlier releases signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from signatures.algorithms import Algorithm, verify
from signatures.canonical import (
    canonical_json,
    encode_plain,
    encode_plain_text,
    encode_string,
    keys_ok,
    parse_canonical,
    plain_json_ok,
)
from signatures.errors import SignatureError, VerificationError
from signatures.keys import Signer
from signatures.pki import fingerprint
from signatures.sealing import check_sealed

RECORD_VERSION = 1
SEALED_RECORD_VERSION = 2  # version 1 and `sealed` (docs/evidence-bundle.md §1a)
_VERSIONS = (RECORD_VERSION, SEALED_RECORD_VERSION)
GENESIS_HASH = "0" * 64
# A supervisor's hand-over of a task is a record of its own. BPMN ids are XML NCNames and cannot contain
# ":", so this id never names a model task; path replays skip such records.
REASSIGN_SPEC = "casetrail:reassign"
# An operator's repair of a case's workflow state (engine/usecases/repair.py): a record of its own too.
REPAIR_SPEC = "casetrail:repair"
# A head's 督办 of an overdue or soon-due task (engine/usecases/team.py): who pressed whom, with which note.
URGE_SPEC = "casetrail:urge"
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
_EIGHT_HOURS = dt.timedelta(hours=8)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DOC_KEYS = frozenset(("name", "kind", "sha256"))
_UTC_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_FIELDS = ("version", "case_id", "case_number", "seq", "task_spec_id", "task_name", "role",
           "definition_sha256", "actor", "actor_name", "cert_fingerprint", "algorithm", "form_data",
           "documents", "assignments", "prev_hash", "time_utc", "time_local")
_FIELD_SET = frozenset(_FIELDS)
_FIELDS_V2 = (*_FIELDS, "sealed")
_FIELD_SET_V2 = frozenset(_FIELDS_V2)
_MAX_SEQ = 2**53  # JCS integers are IEEE-754 doubles: larger ones are not exact
_decode_json = json.JSONDecoder().decode  # no hooks: the C scanner is built once


@dataclass(frozen=True)
class DocumentRef:
    """A document produced by the step, named by the SHA-256 of its exact bytes (the signed PDF)."""

    name: str
    kind: str
    sha256: str


def format_times(moment: dt.datetime) -> tuple[str, str]:
    """(time_utc, time_local): whole seconds, UTC with 'Z' and Beijing time with '+08:00'."""
    if moment.tzinfo is None:
        raise ValueError("signing time must be timezone-aware")
    # Runs once per signed step: isoformat() and a fixed +8h shift (China has no DST) are the
    # cheapest exact spelling; [:19] drops microseconds and the offset.
    utc = moment.astimezone(dt.UTC)
    return utc.isoformat()[:19] + "Z", (utc + _EIGHT_HOURS).isoformat()[:19] + "+08:00"


def format_local(utc: dt.datetime) -> str:
    """`format_times(utc)[1]` for a moment already in UTC (what `parse_utc` returns): the verifier's check."""
    return (utc + _EIGHT_HOURS).isoformat()[:19] + "+08:00"


def parse_utc(text: str) -> dt.datetime:
    """Parse a record's `time_utc`; only the exact 'YYYY-MM-DDTHH:MM:SSZ' spelling is accepted."""
    if not _UTC_RE.fullmatch(text):
        raise VerificationError(f"time {text!r} is not in the form YYYY-MM-DDTHH:MM:SSZ")
    try:  # the C ISO parser (the spelling is already fixed by the pattern): this runs for every record verified
        moment = dt.datetime.fromisoformat(text[:19])
    except ValueError as exc:
        raise VerificationError(f"time {text!r} is not a valid date and time") from exc
    return moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class StepRecord:
    """What an officer signs when completing a step. Field meanings: docs/evidence-bundle.md."""

    case_id: str
    case_number: str
    seq: int
    task_spec_id: str
    task_name: str
    role: str
    definition_sha256: str
    actor: str
    actor_name: str
    cert_fingerprint: str
    algorithm: str
    form_data: Mapping[str, Any]
    documents: tuple[DocumentRef, ...]
    prev_hash: str
    time_utc: str
    time_local: str
    assignments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    version: int = RECORD_VERSION
    sealed: Mapping[str, str] = field(default_factory=dict)  # version 2: {JSON Pointer: salted digest}

    @classmethod
    def create(cls, *, case_id: str, case_number: str, seq: int, task_spec_id: str, task_name: str, role: str,
               definition_sha256: str, signer: Signer, actor: str, actor_name: str, form_data: Mapping[str, Any],
               documents: Sequence[DocumentRef], prev_hash: str, signed_at: dt.datetime,
               assignments: Mapping[str, Sequence[str]] | None = None,
               sealed: Mapping[str, str] | None = None) -> StepRecord:
        """Build a record for `signer`, filling certificate fingerprint, algorithm and both times. With `sealed`
        digests (form_data already without those fields) the record is version 2."""
        time_utc, time_local = format_times(signed_at)
        return cls._of({
            "case_id": case_id, "case_number": case_number, "seq": seq, "task_spec_id": task_spec_id,
            "task_name": task_name, "role": role, "definition_sha256": definition_sha256, "actor": actor,
            "actor_name": actor_name, "cert_fingerprint": _signer_fingerprint(signer),
            "algorithm": signer.algorithm.value, "form_data": dict(form_data), "documents": tuple(documents),
            "prev_hash": prev_hash, "time_utc": time_utc, "time_local": time_local,
            "assignments": {k: tuple(v) for k, v in assignments.items()} if assignments else {},
            "version": SEALED_RECORD_VERSION if sealed else RECORD_VERSION, "sealed": dict(sealed or {})})

    @classmethod
    def _of(cls, values: dict[str, Any]) -> StepRecord:
        """A record from a dict naming every field. The frozen dataclass `__init__` sets the 19 fields one
        `object.__setattr__` call at a time, as long as the rest of building a record; the class has no
        `__post_init__` or slots, so filling `__dict__` yields the same object."""
        record = object.__new__(cls)
        record.__dict__.update(values)
        if "sealed" not in values:  # a parsed version-1 record
            record.__dict__["sealed"] = {}
        return record

    def to_json_obj(self) -> dict[str, Any]:
        """The record as a JSON object (what gets canonicalised)."""
        obj = {
            "version": self.version, "case_id": self.case_id, "case_number": self.case_number, "seq": self.seq,
            "task_spec_id": self.task_spec_id, "task_name": self.task_name, "role": self.role,
            "definition_sha256": self.definition_sha256, "actor": self.actor, "actor_name": self.actor_name,
            "cert_fingerprint": self.cert_fingerprint, "algorithm": self.algorithm,
            "form_data": self.form_data,
            "documents": [{"name": d.name, "kind": d.kind, "sha256": d.sha256} for d in self.documents],
            "assignments": {k: list(v) for k, v in self.assignments.items()},
            "prev_hash": self.prev_hash, "time_utc": self.time_utc, "time_local": self.time_local,
        }
        if self.version == SEALED_RECORD_VERSION:
            obj["sealed"] = dict(self.sealed)
        return obj

    def to_canonical(self) -> bytes:
        """RFC 8785 bytes: exactly what is signed, hashed and logged."""
        text = self._canonical_text()
        if text is not None:
            return text.encode("utf-8")
        obj = self.to_json_obj()
        return encode_plain(obj) if self._plain() else canonical_json(obj)

    def _canonical_text(self) -> str | None:
        """The canonical JSON text, spelled out field by field, or None when a value needs the general path.

        Signing and verifying are the hot paths, and the record's shape is fixed: the keys are ASCII, so
        their JCS order is the alphabetical order written below, and each string value is escaped by the
        JSON encoder's own string escaper (the JCS spelling, see canonical.py). That skips building the
        `to_json_obj` dict and sorting it. Only the free-form `form_data` (and the assignments) need
        walking. A non-string where a string belongs raises TypeError in the escaper: the general path
        then reproduces whatever the record's JSON object gives. test_signatures_fast_paths.py holds both to
        the reference implementation.
        """
        seq, form, assignments, version = self.seq, self.form_data, self.assignments, self.version
        if (type(seq) is not int or not 0 < seq < _MAX_SEQ or type(version) is not int
                or version not in _VERSIONS or type(form) is not dict or not plain_json_ok(form)):
            return None
        e = encode_string
        try:
            sealed = ""
            if version == SEALED_RECORD_VERSION:
                seals = self.sealed
                if type(seals) is not dict or not keys_ok(seals):
                    return None
                sealed = '"sealed":{' + ",".join([f"{e(p)}:{e(seals[p])}" for p in sorted(seals)]) + "},"
            elif self.sealed:
                return None
            if self.documents:
                docs = ",".join([f'{{"kind":{e(d.kind)},"name":{e(d.name)},"sha256":{e(d.sha256)}}}'
                                 for d in self.documents])
            else:
                docs = ""
            if not assignments:
                assigned = ""
            elif type(assignments) is dict and keys_ok(assignments):
                parts = []
                for task in sorted(assignments):  # code-point order = JCS order for BMP keys (keys_ok)
                    users = assignments[task]
                    if type(users) is not tuple and type(users) is not list:
                        return None
                    parts.append(f'{e(task)}:[{",".join([e(u) for u in users])}]')
                assigned = ",".join(parts)
            else:
                return None
            return (f'{{"actor":{e(self.actor)},"actor_name":{e(self.actor_name)},"algorithm":{e(self.algorithm)},'
                    f'"assignments":{{{assigned}}},"case_id":{e(self.case_id)},"case_number":{e(self.case_number)},'
                    f'"cert_fingerprint":{e(self.cert_fingerprint)},"definition_sha256":{e(self.definition_sha256)},'
                    f'"documents":[{docs}],"form_data":{encode_plain_text(form)},"prev_hash":{e(self.prev_hash)},'
                    f'"role":{e(self.role)},{sealed}"seq":{seq},"task_name":{e(self.task_name)},'
                    f'"task_spec_id":{e(self.task_spec_id)},"time_local":{e(self.time_local)},'
                    f'"time_utc":{e(self.time_utc)},"version":{version}}}')
        except (TypeError, AttributeError):
            return None

    def _plain(self) -> bool:
        """Fast check that the C encoder yields JCS here (see canonical.py): the envelope's fields are
        checked by type, so only the free-form `form_data` needs walking. Signing is the hot path."""
        try:  # str.join raises TypeError unless every item is a str
            "".join((self.case_id, self.case_number, self.task_spec_id, self.task_name, self.role,
                     self.definition_sha256, self.actor, self.actor_name, self.cert_fingerprint, self.algorithm,
                     self.prev_hash, self.time_utc, self.time_local))
            if self.documents:
                "".join(f for d in self.documents for f in (d.name, d.kind, d.sha256))
            if self.assignments:
                "".join(u for users in self.assignments.values() for u in users)
        except TypeError:
            return False
        return (type(self.seq) is int and 0 < self.seq < 2**53 and self.version in _VERSIONS
                and (self.version == SEALED_RECORD_VERSION or not self.sealed) and keys_ok(dict(self.sealed))
                and type(self.form_data) is dict and keys_ok(self.assignments) and plain_json_ok(self.form_data))

    @property
    def record_hash(self) -> str:
        """Hex SHA-256 of the canonical bytes; the next record's `prev_hash`."""
        return hashlib.sha256(self.to_canonical()).hexdigest()

    @property
    def signed_at(self) -> dt.datetime:
        """The signing time the record states (checked against certificates and the chain)."""
        return parse_utc(self.time_utc)

    @classmethod
    def from_canonical(cls, data: bytes) -> StepRecord:
        """Parse canonical bytes back; anything malformed raises `VerificationError`."""
        record = cls._from_canonical_fast(data)
        if record is not None:
            return record
        # Anything the fast path does not accept takes the general path, which gives the same record for
        # what it accepts and raises the errors it always raised.
        obj = parse_canonical(data)
        if not isinstance(obj, dict):
            raise VerificationError("a step record must be a JSON object")
        if obj.get("version") == SEALED_RECORD_VERSION and type(obj.get("version")) is int:
            if set(obj) != _FIELD_SET_V2:
                raise VerificationError("record does not have exactly the fields of a version-2 step record")
        elif set(obj) != _FIELD_SET:
            raise VerificationError("record does not have exactly the fields of a version-1 step record")
        try:
            return cls._from_obj(obj)
        except (TypeError, KeyError, AttributeError) as exc:
            raise VerificationError(f"record field has the wrong type: {exc}") from exc

    @classmethod
    def _from_canonical_fast(cls, data: bytes) -> StepRecord | None:
        """The record, if `data` is a well-formed record in canonical form that `_canonical_text` spells; else None.

        Every check of `_from_obj` is made here too (the fields, their types, the hex digests, the document
        entries and the assignments); canonical form is then shown by spelling the record out again with
        `_canonical_text` and comparing bytes. That is the general path's check - re-encode and compare -
        without the number hooks, a walk of the whole object and the dict sort: the record's JSON object
        equals the parsed one (same fields, lists for tuples), so both spell the same JCS bytes.
        """
        try:
            text = data.decode("utf-8")
            obj = _decode_json(text)
        except (UnicodeDecodeError, ValueError):
            return None
        if type(obj) is not dict:
            return None
        keys = obj.keys()
        version = SEALED_RECORD_VERSION if keys == _FIELD_SET_V2 else RECORD_VERSION if keys == _FIELD_SET else None
        # The other string fields are type-checked by the escaper in `_canonical_text` below.
        seq, form, docs, assignments = obj.get("seq"), obj.get("form_data"), obj.get("documents"), obj.get("assignments")
        if (version is None or type(obj["version"]) is not int or obj["version"] != version or type(seq) is not int
                or seq < 1 or type(form) is not dict or type(assignments) is not dict or type(docs) is not list):
            return None
        if version == SEALED_RECORD_VERSION:
            if type(obj["sealed"]) is not dict:
                return None
            try:
                check_sealed(form, obj["sealed"])
            except VerificationError:
                return None
        for name in ("prev_hash", "definition_sha256", "cert_fingerprint"):
            value = obj[name]
            if type(value) is not str or not _HEX64.fullmatch(value):
                return None
        for d in docs:
            if type(d) is not dict or d.keys() != _DOC_KEYS:
                return None
        for users in assignments.values():
            if type(users) is not list:
                return None
        obj["documents"] = tuple([DocumentRef(d["name"], d["kind"], d["sha256"]) for d in docs])
        obj["assignments"] = {k: tuple(v) for k, v in assignments.items()}
        record = cls._of(obj)  # the parsed object is ours alone: completed in place, it holds every field
        # The spelling also type-checks what is left: the documents' fields and the assigned user ids must be
        # strings for the escaper, and form_data must be plain JSON. Strict UTF-8 decoding is one-to-one, so
        # comparing the texts compares the bytes.
        return record if record._canonical_text() == text else None

    @classmethod
    def _from_obj(cls, obj: dict[str, Any]) -> StepRecord:
        if type(obj["version"]) is not int or obj["version"] not in _VERSIONS:  # JSON true is no version 1
            raise VerificationError(f"unsupported record version {obj['version']!r}")
        strings = [k for k in _FIELDS if k not in ("version", "seq", "form_data", "documents", "assignments")]
        if any(type(obj[k]) is not str for k in strings) or type(obj["seq"]) is not int or obj["seq"] < 1:
            raise VerificationError("record field has the wrong type")
        if not isinstance(obj["form_data"], dict) or not isinstance(obj["assignments"], dict):
            raise VerificationError("form_data and assignments must be JSON objects")
        for name in ("prev_hash", "definition_sha256", "cert_fingerprint"):
            if not _HEX64.fullmatch(obj[name]):
                raise VerificationError(f"{name} is not 64 lower-case hex digits")
        docs = tuple(DocumentRef(name=d["name"], kind=d["kind"], sha256=d["sha256"]) for d in obj["documents"])
        if any(set(d) != {"name", "kind", "sha256"} for d in obj["documents"]):
            raise VerificationError("a document entry must have exactly name, kind and sha256")
        assignments = {k: tuple(v) for k, v in obj["assignments"].items()}
        if any(not isinstance(v, list) or any(type(u) is not str for u in v) for v in obj["assignments"].values()):
            raise VerificationError("assignments must map task ids to lists of user ids")
        fields = {k: obj[k] for k in _FIELDS if k not in ("documents", "assignments")}
        sealed = obj.get("sealed", {})
        if not isinstance(sealed, dict):
            raise VerificationError("sealed must be a JSON object")
        check_sealed(obj["form_data"], sealed)
        return cls(**fields, documents=docs, assignments=assignments, sealed=sealed)


@dataclass(frozen=True)
class SignedRecord:
    """A record with the exact bytes that were signed and the DER signature over them.

    Build it with `sign_record` or `from_parts` (both guarantee `record` is what `canonical` says):
    verifiers check the signature over `canonical` and read the fields from `record`.
    """

    record: StepRecord
    canonical: bytes
    signature: bytes
    cert_fingerprint: str
    # SHA-256 of the signed canonical bytes: the Merkle log's leaf data for this record. Every signed record
    # is chained and logged, so it is computed up front (a cached_property takes a lock on each first read).
    record_digest: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "record_digest", hashlib.sha256(self.canonical).digest())

    @classmethod
    def _of(cls, record: StepRecord, canonical: bytes, signature: bytes, fp: str) -> SignedRecord:
        """What `__init__` builds, without a frozen dataclass's field-by-field `object.__setattr__` (one of these
        per record signed or verified)."""
        signed = object.__new__(cls)
        signed.__dict__.update(record=record, canonical=canonical, signature=signature, cert_fingerprint=fp,
                               record_digest=hashlib.sha256(canonical).digest())
        return signed

    @property
    def record_hash(self) -> str:
        """Hex of `record_digest`: the next record's `prev_hash`."""
        return self.record_digest.hex()

    @classmethod
    def from_parts(cls, canonical: bytes, signature: bytes) -> SignedRecord:
        """Rebuild from stored/bundled bytes; malformed records raise `VerificationError`."""
        record = StepRecord.from_canonical(canonical)
        return cls._of(record, canonical, signature, record.cert_fingerprint)


def _signer_fingerprint(signer: Signer) -> str:
    """The signer's certificate fingerprint, reusing the one a `KeySigner` computed once."""
    return getattr(signer, "fingerprint", None) or fingerprint(signer.certificate)


def sign_record(record: StepRecord, signer: Signer) -> SignedRecord:
    """Canonicalise and sign; the record must already name this signer's certificate and algorithm."""
    fp = _signer_fingerprint(signer)
    if record.cert_fingerprint != fp or record.algorithm != signer.algorithm.value:
        raise SignatureError("the record names a different certificate or algorithm than the signing key")
    canonical = record.to_canonical()
    return SignedRecord._of(record, canonical, signer.sign(canonical), fp)


def verify_record_signature(signed: SignedRecord, cert: x509.Certificate) -> None:
    """Raise `VerificationError` unless `cert` signed exactly `signed.canonical` with the stated algorithm.

    Only the signature is checked here; whether the certificate was trustworthy at the signing time is
    the job of `chain.TrustStore` (and `verify_case`, which does both).
    """
    algorithm = Algorithm.from_name(signed.record.algorithm)
    if fingerprint(cert) != signed.record.cert_fingerprint:
        raise VerificationError("the record names a different certificate than the one given")
    verify(algorithm, cert.public_key(), signed.signature, signed.canonical)


def is_model_step(task_spec_id: str) -> bool:
    """False for the engine's own records (a reassignment, a repair), which are not steps of the process model."""
    return ":" not in task_spec_id
