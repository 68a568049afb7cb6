"""Signed tree heads: the log key's statement "the log had `size` leaves with root `root_hash` at `timestamp`".

An auditor who kept an older head can demand a consistency proof to the newer one; if the log was
truncated or any earlier leaf rewritten, that proof cannot exist (RFC 9162 §2.1.4). A record's
`time_utc` must not be later than the head that includes it, which bounds back-dating by a server
that still holds a revoked officer's key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509

from signatures.algorithms import Algorithm, verify
from signatures.canonical import canonical_json, parse_canonical, recanonicalise
from signatures.chain import TrustStore
from signatures.errors import VerificationError
from signatures.keys import Signer
from signatures.merkle import verify_consistency
from signatures.pki import CertRole, fingerprint, index_certificates
from signatures.records import format_times, parse_utc

TREE_HEAD_VERSION = 1


@dataclass(frozen=True)
class TreeHead:
    """Size and root of the Merkle log at a moment (`timestamp` in 'YYYY-MM-DDTHH:MM:SSZ')."""

    size: int
    root_hash: bytes
    timestamp: str

    @classmethod
    def at(cls, size: int, root_hash: bytes, moment: dt.datetime) -> TreeHead:
        """A head stamped with `moment` (whole seconds, UTC)."""
        return cls(size, root_hash, format_times(moment)[0])

    def to_json_obj(self) -> dict[str, object]:
        """The signed JSON object (canonicalised with RFC 8785 before signing)."""
        return {"version": TREE_HEAD_VERSION, "size": self.size, "root_hash": self.root_hash.hex(),
                "timestamp": self.timestamp}

    def to_canonical(self) -> bytes:
        """The exact bytes the log key signs."""
        return canonical_json(self.to_json_obj())

    @property
    def moment(self) -> dt.datetime:
        """The timestamp as an aware datetime."""
        return parse_utc(self.timestamp)


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head with the log key's DER signature over its canonical bytes."""

    tree_head: TreeHead
    algorithm: str
    cert_fingerprint: str
    signature: bytes

    def to_json_obj(self) -> dict[str, object]:
        """Bundle form (treehead.json); the signature is base64."""
        return {"tree_head": self.tree_head.to_json_obj(), "algorithm": self.algorithm,
                "cert_fingerprint": self.cert_fingerprint, "signature": base64.b64encode(self.signature).decode()}

    def to_json(self) -> bytes:
        """Canonical JSON of the bundle form."""
        return canonical_json(self.to_json_obj())

    @classmethod
    def from_json(cls, data: bytes) -> SignedTreeHead:
        """Parse treehead.json; malformed input raises `VerificationError`."""
        obj = parse_canonical(data)
        try:
            head = obj["tree_head"]
            if set(obj) != {"tree_head", "algorithm", "cert_fingerprint", "signature"} or \
                    set(head) != {"version", "size", "root_hash", "timestamp"} or head["version"] != TREE_HEAD_VERSION:
                raise VerificationError("tree head does not have the expected fields")
            root = bytes.fromhex(head["root_hash"])
            if type(head["size"]) is not int or len(root) != 32:
                raise VerificationError("tree head size or root hash is malformed")
            parse_utc(head["timestamp"])
            return cls(TreeHead(head["size"], root, head["timestamp"]), str(obj["algorithm"]),
                       str(obj["cert_fingerprint"]), base64.b64decode(obj["signature"], validate=True))
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationError(f"tree head is malformed: {exc}") from exc


    @classmethod
    def from_kept_json(cls, data: bytes) -> SignedTreeHead:
        """A head an auditor kept, in any JSON spelling (`casetrail log head --json` prints it indented).

        The log key signed the tree head's canonical bytes, not the file: re-canonicalising loses nothing, and
        the signature is checked where the head is used (`verify_tree_head`).
        """
        return cls.from_json(recanonicalise(data))


def sign_tree_head(head: TreeHead, signer: Signer) -> SignedTreeHead:
    """Sign a tree head with the log key."""
    return SignedTreeHead(head, signer.algorithm.value, fingerprint(signer.certificate),
                          signer.sign(head.to_canonical()))


def verify_tree_head(signed: SignedTreeHead, trust: TrustStore,
                     log_certs: Iterable[x509.Certificate] | Mapping[str, x509.Certificate]) -> None:
    """Raise unless a log certificate valid at the head's timestamp signed it.

    `log_certs` are candidate certificates (matched by fingerprint); the signer must have the
    "log" role so an officer's key cannot vouch for the log. A head already verified with this
    trust store is not verified again (one head serves every case an auditor checks).
    """
    data = signed.tree_head.to_canonical()
    memo = hashlib.sha256(b"|".join([data, signed.signature, signed.cert_fingerprint.encode(),
                                     signed.algorithm.encode()])).digest()
    if memo in trust.verified_statements:
        return
    cert = index_certificates(log_certs).get(signed.cert_fingerprint)
    if cert is None:
        raise VerificationError("the certificate that signed the tree head is not available")
    checked = trust.check_at(cert, signed.tree_head.moment)
    if checked.role is not CertRole.LOG:
        raise VerificationError("the tree head was not signed by a log certificate")
    verify(Algorithm.from_name(signed.algorithm), checked.public_key, signed.signature, data)
    trust.verified_statements.add(memo)


def verify_extends(old: SignedTreeHead, new: SignedTreeHead, proof: Sequence[bytes]) -> None:
    """Raise `VerificationError` unless `new` is an append-only extension of `old` (no truncation/rewrite).

    Both heads' signatures must be checked separately with `verify_tree_head`.
    """
    verify_consistency(old.tree_head.size, old.tree_head.root_hash, new.tree_head.size,
                       new.tree_head.root_hash, proof)
