"""Test helpers: an agency with a root CA, officers, a log key and a Merkle log; a sample case.

Every time is fixed (T0) or derived from it: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from signatures.algorithms import generate_private_key
from signatures.chain import TrustStore
from signatures.keys import KeySigner
from signatures.merkle import InclusionProof, MerkleLog
from signatures.pki import (
    Authority,
    Revocation,
    issue_log_certificate,
    issue_officer_certificate,
    make_crl,
    make_root_ca,
)
from signatures.records import GENESIS_HASH, DocumentRef, SignedRecord, StepRecord, sign_record
from signatures.treehead import SignedTreeHead, TreeHead, sign_tree_head
from signatures.verify import verify_case

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
DEFINITION_SHA = "d" * 64

# (task spec id, task name, role, actor, assignments made by the step)
STANDARD_STEPS = [
    ("register", "立案审批", "chief", "u-li", {"investigate": ["u-wang"]}),
    ("investigate", "调查取证", "investigator", "u-wang", {"review": ["u-zhao"]}),
    ("review", "案件审核", "legal_reviewer", "u-zhao", {"notify": ["u-wang"]}),
    ("notify", "行政处罚事先告知", "investigator", "u-wang", {"decide": ["u-li"]}),
    ("decide", "行政处罚决定", "chief", "u-li", {"close": ["u-wang"]}),
    ("close", "结案", "investigator", "u-wang", {}),
]
NAMES = {"u-li": "李主任", "u-wang": "王监督员", "u-zhao": "赵法制员", "u-sun": "孙监督员"}


@dataclass
class Officer:
    user_id: str
    name: str
    signer: KeySigner


@dataclass
class Case:
    records: list[SignedRecord]
    documents: dict[str, bytes]
    leaf_index: dict[int, int] = field(default_factory=dict)  # seq -> log index


class Agency:
    """A health-supervision bureau's PKI and log, as the engine would hold them."""

    def __init__(self) -> None:
        self.ca: Authority = make_root_ca("某市卫生健康委员会", now=T0 - 30 * DAY, valid_for=3650 * DAY)
        self.officers: dict[str, Officer] = {}
        self.revocations: list[Revocation] = []
        key = generate_private_key()
        cert = issue_log_certificate(self.ca, public_key=key.public_key(), now=T0 - 30 * DAY, valid_for=3650 * DAY)
        self.log_signer = KeySigner(key, cert)
        self.log = MerkleLog()
        for user_id, name in NAMES.items():
            self.add_officer(user_id, name)

    def add_officer(self, user_id: str, name: str, *, not_before: dt.datetime = T0 - 10 * DAY,
                    valid_for: dt.timedelta = 365 * DAY) -> Officer:
        key = generate_private_key()
        cert = issue_officer_certificate(self.ca, user_id=user_id, name=name, public_key=key.public_key(),
                                         now=not_before, valid_for=valid_for)
        self.officers[user_id] = Officer(user_id, name, KeySigner(key, cert))
        return self.officers[user_id]

    def revoke(self, user_id: str, at: dt.datetime) -> None:
        self.revocations.append(Revocation(self.officers[user_id].signer.certificate.serial_number, at))

    def crl(self, now: dt.datetime = T0 + 30 * DAY):
        return make_crl(self.ca, self.revocations, now)

    def trust(self, now: dt.datetime = T0 + 30 * DAY) -> TrustStore:
        return TrustStore([self.ca.certificate], crls=[self.crl(now)])

    def certificates(self) -> list:
        return [o.signer.certificate for o in self.officers.values()] + [self.log_signer.certificate]

    def record(self, case_seq: int, task: str, role: str, actor: str, *, prev_hash: str, at: dt.datetime,
               form_data: dict | None = None, documents: Sequence[DocumentRef] = (),
               assignments: dict | None = None, signer_id: str | None = None, case_id: str = "case-7",
               task_name: str = "") -> SignedRecord:
        officer = self.officers[signer_id or actor]
        record = StepRecord.create(
            case_id=case_id, case_number="呈卫投〔2026〕0007号", seq=case_seq, task_spec_id=task,
            task_name=task_name or task, role=role, definition_sha256=DEFINITION_SHA, signer=officer.signer,
            actor=actor, actor_name=NAMES.get(actor, actor), form_data=form_data or {},
            documents=documents, prev_hash=prev_hash, signed_at=at, assignments=assignments)
        return sign_record(record, officer.signer)

    def build_case(self, steps: Sequence[tuple] = STANDARD_STEPS, *, start: dt.datetime = T0,
                   noise_before: int = 5) -> Case:
        for i in range(noise_before):  # other cases' leaves, so indices are not trivial
            self.log.append(f"other case leaf {len(self.log)} {i}".encode())
        case = Case([], {})
        prev = GENESIS_HASH
        for n, (task, name, role, actor, assigns) in enumerate(steps, start=1):
            pdf = f"%PDF-1.7 {name} 第{n}步 罚款5000元".encode()
            digest = hashlib.sha256(pdf).hexdigest()
            case.documents[digest] = pdf
            signed = self.record(n, task, role, actor, prev_hash=prev, at=start + n * HOUR,
                                 form_data={"opinion": f"同意{name}", "fine_yuan": 5000, "items": [1, 2]},
                                 documents=[DocumentRef(f"{task}.pdf", name, digest)], assignments=assigns,
                                 task_name=name)
            case.records.append(signed)
            case.leaf_index[n] = self.log.append(signed.record_digest)
            prev = signed.record_hash
        return case

    def head(self, at: dt.datetime = T0 + 10 * DAY, size: int | None = None) -> SignedTreeHead:
        n = len(self.log) if size is None else size
        return sign_tree_head(TreeHead.at(n, self.log.root(n), at), self.log_signer)

    def proofs(self, case: Case, head: SignedTreeHead) -> dict[int, InclusionProof]:
        size = head.tree_head.size
        return {seq: InclusionProof(i, size, tuple(self.log.inclusion_proof(i, size)))
                for seq, i in case.leaf_index.items() if i < size}

    def verify(self, case: Case, records: Sequence[SignedRecord] | None = None, **kwargs):
        head = kwargs.pop("tree_head", None) or self.head()
        kwargs.setdefault("trust", self.trust())
        kwargs.setdefault("certificates", self.certificates())
        kwargs.setdefault("inclusion_proofs", self.proofs(case, head))
        kwargs.setdefault("documents", case.documents)
        return verify_case(case.records if records is None else records, tree_head=head, **kwargs)
