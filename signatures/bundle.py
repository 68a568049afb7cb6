"""Evidence bundles: one zip that lets anyone re-verify a case with no database and no server.

Layout and formats are specified in docs/evidence-bundle.md. Every file is listed with its SHA-256
in `manifest.json`, which the log key (or the agency seal) signs in `manifest.sig`; so an altered,
missing or added file is named even when it would not otherwise affect a check (e.g. a BPMN file).
Input that cannot be read at all (not a zip, no manifest, unreadable trust root) raises
`BundleError` - "unusable", exit status 2 - while anything readable but wrong is an INVALID report.

A bundle may disclose sealed fields (`disclosures/NNNN.json`, docs/evidence-bundle.md §1a) and leave documents
out on purpose: the manifest (version 2) lists them under `withheld`, and the seal's signature over it is what
makes a missing document "withheld" rather than "missing".

Evidence files the records list (§5a, manifest version 3) travel under readable names, streamed in and hashed on
the way; one left out (above the agency's size limit, or on need-to-know) is named by its digest with the seal's
note. Reading hashes them as they stream past; each is checked against the digest its record signs.

Manifest version 4 (what `write_bundle_to` writes) changes the layout only: a README.txt (zh, en) says what the
bundle holds and the one command that checks it, and each 文书 sits under the step that made it
(signatures/bundle_layout.py), tied to the SHA-256 its record signs by the manifest's `documents`. Bundles of
versions 1–3 (documents named by digest) verify as before.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography import x509

from signatures.algorithms import Algorithm, verify
from signatures.bundle_layout import DOCUMENTS_DIR, README, document_paths, readme
from signatures.canonical import canonical_json, parse_canonical, sha256_hex
from signatures.chain import TrustStore
from signatures.errors import BundleError, SignatureError
from signatures.evidence import EVIDENCE_DIR, EvidenceFile, EvidenceLookup, Found, hash_stream, member_path
from signatures.keys import Signer
from signatures.merkle import InclusionProof
from signatures.pki import CertRole, certificate_pem, crl_pem, fingerprint, load_certificate, load_crls
from signatures.records import SignedRecord, format_times, parse_utc
from signatures.report import CaseReport, Check, CheckResult, failed, passed
from signatures.sealing import Disclosure, disclosures_from_json_obj, disclosures_to_json
from signatures.treehead import SignedTreeHead
from signatures.verify import ExpectedActor, PathCheck, verify_case

MANIFEST, MANIFEST_SIG = "manifest.json", "manifest.sig"
MANIFEST_VERSION = 1
WITHHOLDING_MANIFEST_VERSION = 2  # with `withheld`; written when the records seal fields or documents are left out
EVIDENCE_MANIFEST_VERSION = 3  # with `withheld` and `evidence`; written when the records list evidence files
# with `withheld`, `evidence` and `documents` (each 文书's path by step), and a README.txt: what is written now
LAYOUT_MANIFEST_VERSION = 4
KNOWN_MANIFEST_VERSIONS = (MANIFEST_VERSION, WITHHOLDING_MANIFEST_VERSION, EVIDENCE_MANIFEST_VERSION,
                           LAYOUT_MANIFEST_VERSION)
_WITHHOLDING_VERSIONS = (WITHHOLDING_MANIFEST_VERSION, EVIDENCE_MANIFEST_VERSION, LAYOUT_MANIFEST_VERSION)
_EVIDENCE_VERSIONS = (EVIDENCE_MANIFEST_VERSION, LAYOUT_MANIFEST_VERSION)
_DIGEST_NAME_RE = re.compile(r"documents/([0-9a-f]{64})\.pdf")
MAX_BUNDLE_BYTES = 1 << 30  # refuse zip bombs: a case file is megabytes, not gigabytes
_RECORD_RE = re.compile(r"records/(\d{4,})\.json")
_DISCLOSURE_RE = re.compile(r"disclosures/(\d{4,})\.json")


@dataclass(frozen=True)
class Withheld:
    """A document a record names that the bundle leaves out on purpose, and why (manifest `withheld`)."""

    seq: int
    sha256: str
    reason: str

    def to_json_obj(self) -> dict[str, object]:
        return {"seq": self.seq, "sha256": self.sha256, "reason": self.reason}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same inputs give the same bytes

# A bundle in memory, or an open binary file holding it (an upload streamed to a temporary file is read from
# there, member by member, rather than copied into memory first).
BundleSource = bytes | IO[bytes]


@dataclass(frozen=True)
class BundledFile:
    """An evidence file a record lists, as the bundle will hold it: its bytes from `source` (opened once per
    distinct digest, streamed), or — `source` None — only its digest with `left_out`, the note saying why and where
    the original is kept (above the bundle's size limit, or withheld on need-to-know)."""

    seq: int
    file: EvidenceFile
    source: Callable[[], IO[bytes]] | None = None
    left_out: str = ""


def write_bundle(**kwargs: Any) -> bytes:
    """`write_bundle_to` into memory (the bundle's bytes); for bundles without large evidence files."""
    out = io.BytesIO()
    write_bundle_to(out, **kwargs)
    return out.getvalue()


def write_bundle_to(target: IO[bytes], *, records: Sequence[SignedRecord], trust_root: x509.Certificate,
                    certificates: Sequence[x509.Certificate], crls: Sequence[x509.CertificateRevocationList],
                    tree_head: SignedTreeHead, inclusion_proofs: Mapping[int, InclusionProof],
                    documents: Mapping[str, bytes], definition_files: Mapping[str, bytes],
                    manifest_signer: Signer, created_at: dt.datetime,
                    disclosures: Mapping[int, Mapping[str, Disclosure]] | None = None,
                    withheld: Sequence[Withheld] = (), evidence: Sequence[BundledFile] = ()) -> None:
    """Write the zip to `target` (a seekable binary file). `certificates`: intermediates, officers, log/seal (the
    root goes in separately).

    `inclusion_proofs` are keyed by record seq; `documents` by the sha256 the records name;
    `manifest_signer` is the log key or the agency seal (电子印章). `disclosures` (by seq) are the sealed fields
    this bundle discloses; `withheld` the documents it leaves out on purpose; `evidence` the files the records
    list (§5a): each carried file is streamed into the zip and hashed on the way — bytes that do not give the
    digest its record signs raise `BundleError`, so a bundle never carries a file its record does not vouch for.
    """
    if not records:
        raise BundleError("a bundle needs at least one step record")
    files: dict[str, bytes] = {"certs/root.pem": certificate_pem(trust_root)}
    for n, signed in enumerate(records, start=1):
        files[f"records/{n:04d}.json"] = signed.canonical
        files[f"records/{n:04d}.sig"] = signed.signature
        proof = inclusion_proofs.get(signed.record.seq)
        if proof is not None:
            files[f"proofs/{n:04d}.json"] = canonical_json(proof.to_json_obj())
        disclosed = (disclosures or {}).get(signed.record.seq)
        if disclosed:
            files[f"disclosures/{n:04d}.json"] = disclosures_to_json(disclosed)
    for cert in certificates:
        files[f"certs/{fingerprint(cert)}.pem"] = certificate_pem(cert)
    files["crl.pem"] = b"".join(crl_pem(c) for c in crls)
    files["treehead.json"] = tree_head.to_json()
    paths = document_paths(records, documents)
    for digest, data in documents.items():
        files[paths[digest]] = data
    for name, data in definition_files.items():
        if "/" in name or name.startswith("."):
            raise BundleError(f"definition file name {name!r} must be a plain file name")
        files[f"definition/{name}"] = data
    first = records[0].record
    created_utc = format_times(created_at)[0]
    files[README] = readme(records, created_utc=created_utc, documents=paths, withheld=len(withheld),
                           root_fingerprint=fingerprint(trust_root))
    extra: dict[str, object] = {
        "withheld": [w.to_json_obj() for w in sorted(withheld, key=lambda w: (w.seq, w.sha256))],
        "documents": _document_entries(records, paths),
    }
    listed = {p: (sha256_hex(d), len(d)) for p, d in files.items()}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        task_names = {s.record.seq: s.record.task_name for s in records}
        extra["evidence"] = _write_evidence(zf, evidence, task_names, listed)
        manifest = canonical_json({
            "version": LAYOUT_MANIFEST_VERSION, "case_id": first.case_id, "case_number": first.case_number, **extra,
            "created_utc": created_utc,
            "signer": {"algorithm": manifest_signer.algorithm.value,
                       "cert_fingerprint": fingerprint(manifest_signer.certificate)},
            "files": [{"path": p, "sha256": d, "size": n} for p, (d, n) in sorted(listed.items())],
        })
        files[MANIFEST], files[MANIFEST_SIG] = manifest, manifest_signer.sign(manifest)
        for path in sorted(files):
            zf.writestr(zipfile.ZipInfo(path, _ZIP_TIME), files[path], zipfile.ZIP_DEFLATED)


def _document_entries(records: Sequence[SignedRecord], paths: Mapping[str, str]) -> list[dict[str, object]]:
    """The manifest's `documents`: every carried 文书 with the step that names it and where it is, by seq and path.
    What verification keys on is the `sha256` (the record's); the path is where a reader finds it."""
    entries = [{"seq": s.record.seq, "kind": d.kind, "name": d.name, "sha256": d.sha256, "path": paths[d.sha256]}
               for s in records for d in s.record.documents if d.sha256 in paths]
    return sorted(entries, key=lambda e: (e["seq"], e["path"]))


def _write_evidence(zf: zipfile.ZipFile, evidence: Sequence[BundledFile], task_names: Mapping[int, str],
                    listed: dict[str, tuple[str, int]]) -> list[dict[str, object]]:
    """Stream each carried file into the zip once per digest (stored: photos and recordings are compressed
    already), hashing on the way; the manifest's `evidence` entries, by seq and file number."""
    carried: dict[str, str] = {}  # sha256 -> path
    entries: list[dict[str, object]] = []
    for item in sorted(evidence, key=lambda e: (e.seq, e.file.id)):
        file = item.file
        entry: dict[str, object] = {"seq": item.seq, "id": file.id, "sha256": file.sha256, "size": file.size,
                                    "name": file.name}
        if item.source is None:
            if not item.left_out:
                raise BundleError(f"step {item.seq}: file {file.name!r} is left out without a note saying why")
            entries.append({**entry, "left_out": item.left_out})
            continue
        path = carried.get(file.sha256)
        if path is None:
            path = member_path(item.seq, task_names.get(item.seq, ""), file)
            if path in listed:
                raise BundleError(f"two evidence files would share the bundle path {path!r}")
            info = zipfile.ZipInfo(path, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = file.size  # zip64 headers when a file needs them
            with item.source() as source, zf.open(info, "w") as sink:
                digest, size = hash_stream(source, sink)
            if (digest, size) != (file.sha256, file.size):
                raise BundleError(f"step {item.seq}: the stored bytes of file {file.name!r} (no. {file.id}) do not "
                                  f"give the SHA-256 and size its record signs: the store holds a damaged copy")
            carried[file.sha256] = path
            listed[path] = (digest, size)
        entries.append({**entry, "path": path})
    return entries


def read_zip(zip_bytes: BundleSource) -> dict[str, bytes]:
    """All members of the zip by name but the evidence files (which `read_members` hashes as it streams them);
    raises `BundleError` if it is not a usable zip with a manifest."""
    return read_members(zip_bytes)[0]


def read_members(zip_bytes: BundleSource) -> tuple[dict[str, bytes], dict[str, tuple[str, int]]]:
    """(the members in memory by name, {evidence member: (sha256, size)}). Evidence files (§5a) are read a megabyte
    at a time and only hashed: a bundle may carry gigabytes of them, and the 1 GiB bound is on the rest."""
    streamed: dict[str, tuple[str, int]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes) if isinstance(zip_bytes, bytes) else zip_bytes) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            loaded = [i for i in infos if not i.filename.startswith(EVIDENCE_DIR)]
            if sum(i.file_size for i in loaded) > MAX_BUNDLE_BYTES:
                raise BundleError("bundle is larger than 1 GiB uncompressed; refusing to open it")
            files = {i.filename: zf.read(i) for i in loaded}
            for info in infos:
                if info.filename.startswith(EVIDENCE_DIR):
                    with zf.open(info) as member:
                        streamed[info.filename] = hash_stream(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise BundleError(f"not a readable evidence bundle (zip): {exc}") from exc
    for required in (MANIFEST, MANIFEST_SIG):
        if required not in files:
            raise BundleError(f"not an evidence bundle: {required} is missing")
    return files, streamed


@dataclass
class BundleContents:
    """What a bundle holds, parsed as far as possible; `problems` names what could not be read."""

    files: dict[str, bytes]
    records: list[SignedRecord] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    tree_head: SignedTreeHead | None = None
    proofs: dict[int, InclusionProof] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)
    definition_files: dict[str, bytes] = field(default_factory=dict)
    disclosures: dict[int, dict[str, Disclosure]] = field(default_factory=dict)  # by record seq
    problems: list[str] = field(default_factory=list)
    evidence: dict[str, tuple[str, int]] = field(default_factory=dict)  # evidence member -> (sha256, size) read


def read_bundle(zip_bytes: BundleSource) -> BundleContents:
    """Parse a bundle without judging it (the engine uses `definition_files` to build a path check)."""
    files, streamed = read_members(zip_bytes)
    contents = BundleContents(files, evidence=streamed)
    files, problems = contents.files, contents.problems
    named = _named_documents(files)
    for path, data in sorted(files.items()):
        try:
            if path.startswith("certs/") and path.endswith(".pem"):
                contents.certificates.append(load_certificate(data))
            elif path.startswith(DOCUMENTS_DIR) and path.endswith(".pdf"):
                contents.documents[_document_digest(path, data, named)] = data
            elif path.startswith("definition/"):
                contents.definition_files[path[len("definition/"):]] = data
            elif path == "crl.pem":
                contents.crls = load_crls(data)
            elif path == "treehead.json":
                contents.tree_head = SignedTreeHead.from_json(data)
        except SignatureError as exc:
            problems.append(f"{path}: unreadable: {exc}")
    numbered = {int(m.group(1)): p for p in files if (m := _RECORD_RE.fullmatch(p))}
    for path in (numbered[n] for n in sorted(numbered)):  # numeric: records/10000 follows records/9999
        stem = path[:-len(".json")]
        try:
            signed = SignedRecord.from_parts(files[path], files.get(stem + ".sig", b""))
        except SignatureError as exc:
            problems.append(f"{path}: not a valid step record: {exc}")
            continue
        contents.records.append(signed)
        proof_path = stem.replace("records/", "proofs/") + ".json"
        if proof_path in files:
            try:
                proof = InclusionProof.from_json_obj(parse_canonical(files[proof_path]))
                contents.proofs[signed.record.seq] = proof
            except SignatureError as exc:
                problems.append(f"{proof_path}: unreadable: {exc}")
        disclosure_path = stem.replace("records/", "disclosures/") + ".json"
        if disclosure_path in files:
            try:
                contents.disclosures[signed.record.seq] = disclosures_from_json_obj(parse_canonical(files[disclosure_path]))
            except SignatureError as exc:
                problems.append(f"{disclosure_path}: unreadable: {exc}")
    orphans = [p for p in files if (m := _DISCLOSURE_RE.fullmatch(p)) and int(m.group(1)) not in numbered]
    problems.extend(f"{p}: discloses a record the bundle does not hold" for p in sorted(orphans))
    return contents


def _named_documents(files: Mapping[str, bytes]) -> dict[str, str]:
    """{path: sha256} of the documents a version-4 manifest places by step (empty for earlier versions, or when the
    manifest cannot be read: its own check says so, and each document is then known by the digest of its bytes)."""
    try:
        manifest = parse_canonical(files[MANIFEST])
        entries = manifest.get("documents", []) if manifest.get("version") == LAYOUT_MANIFEST_VERSION else []
        return {str(e["path"]): str(e["sha256"]) for e in entries}
    except (SignatureError, KeyError, TypeError, AttributeError):
        return {}


def _document_digest(path: str, data: bytes, named: Mapping[str, str]) -> str:
    """The digest a document member stands for: its name (versions 1–3), the manifest's entry (version 4), or —
    neither — its own bytes' (an unlisted member is named by the `files` check anyway)."""
    if (m := _DIGEST_NAME_RE.fullmatch(path)) is not None:
        return m.group(1)
    return named.get(path) or sha256_hex(data)


def _withheld(manifest: Mapping[str, object]) -> dict[str, str]:
    """{sha256: reason} of the documents a version-2, -3 or -4 manifest says it leaves out."""
    if manifest.get("version") not in _WITHHOLDING_VERSIONS:
        return {}
    items = manifest["withheld"]
    if not isinstance(items, list) or any(not isinstance(w, dict) or not isinstance(w.get("sha256"), str)
                                          for w in items):
        raise TypeError("withheld must be a list of objects naming a sha256")
    return {w["sha256"]: str(w.get("reason", "")) for w in items}


def _evidence_entries(manifest: Mapping[str, object]) -> dict[tuple[int, int], dict[str, object]]:
    """A version-3 or -4 manifest's `evidence` by (seq, file number): each carried at `path` or `left_out` with a
    note."""
    if manifest.get("version") not in _EVIDENCE_VERSIONS:
        return {}
    items = manifest["evidence"]
    if not isinstance(items, list) or any(
            not isinstance(e, dict) or not isinstance(e.get("seq"), int) or not isinstance(e.get("id"), int)
            or not (isinstance(e.get("path"), str) or isinstance(e.get("left_out"), str)) for e in items):
        raise TypeError("evidence must be a list of objects with seq, id and a path or a left_out note")
    return {(e["seq"], e["id"]): e for e in items}


@dataclass(frozen=True)
class _Manifest:
    check: CheckResult
    files: CheckResult
    withheld: dict[str, str]  # documents left out on purpose (empty unless the signature holds)
    evidence: dict[tuple[int, int], dict[str, object]]
    trusted: bool  # its signature holds: its notes of files left out on purpose count


def _check_manifest(contents: BundleContents, trust: TrustStore) -> _Manifest:
    """The manifest's signature, every file it lists, what it says it leaves out."""
    files = contents.files
    try:
        manifest = parse_canonical(files[MANIFEST])
        signer, listed = manifest["signer"], manifest["files"]
        if manifest.get("version") not in KNOWN_MANIFEST_VERSIONS:
            raise TypeError(f"unknown manifest version {manifest.get('version')!r}")
        created = parse_utc(manifest["created_utc"])
        expected = {f["path"]: f["sha256"] for f in listed}
        withheld = _withheld(manifest)
        evidence = _evidence_entries(manifest)
        if not isinstance(signer, dict):
            raise TypeError("signer must be an object")
    except (SignatureError, KeyError, TypeError, AttributeError) as exc:
        reason = f"{MANIFEST} is unreadable or altered: {exc}"
        return _Manifest(failed(Check.MANIFEST, reason),
                         failed(Check.FILES, "files cannot be checked without a manifest"), {}, {}, False)
    by_fp = {fingerprint(c): c for c in contents.certificates}
    cert = by_fp.get(str(signer.get("cert_fingerprint")))
    try:
        if cert is None:
            raise SignatureError(f"its signer's certificate certs/{signer.get('cert_fingerprint')}.pem is missing "
                                 "or altered")
        checked = trust.check_at(cert, created)
        if checked.role not in (CertRole.LOG, CertRole.SEAL):
            raise SignatureError("it was not signed by the log key or the agency seal")
        verify(Algorithm.from_name(str(signer.get("algorithm"))), checked.public_key, files[MANIFEST_SIG],
               files[MANIFEST])
        manifest_check = passed(Check.MANIFEST, f"signed by {checked.subject}")
    except SignatureError as exc:
        manifest_check = failed(Check.MANIFEST, f"{MANIFEST} / {MANIFEST_SIG} does not verify: {exc}")
    found = {p: sha256_hex(d) for p, d in files.items()} | {p: d for p, (d, _) in contents.evidence.items()}
    bad = [f"{p} was altered" for p, digest in sorted(expected.items()) if p in found and found[p] != digest]
    bad += [f"{p} is missing" for p in sorted(expected) if p not in found]
    bad += [f"{p} is not listed in the manifest" for p in sorted(found)
            if p not in expected and p not in (MANIFEST, MANIFEST_SIG)]
    files_check = failed(Check.FILES, "; ".join(bad)) if bad else passed(Check.FILES, f"{len(expected)} files")
    trusted = manifest_check.passed
    return _Manifest(manifest_check, files_check, withheld if trusted else {}, evidence, trusted)


def _evidence_lookup(manifest: _Manifest, streamed: Mapping[str, tuple[str, int]]) -> EvidenceLookup:
    """What the bundle holds of a listed file: the bytes at the path its manifest names (hashed as read), or the
    seal-signed note saying it is left out; None when neither."""

    def look(seq: int, file: EvidenceFile) -> Found | None:
        entry = manifest.evidence.get((seq, file.id))
        if entry is None:
            return None
        path = entry.get("path")
        if isinstance(path, str):
            got = streamed.get(path)
            return None if got is None else Found(digest=got[0], size=got[1])
        note = entry.get("left_out")
        if manifest.trusted and isinstance(note, str) and note.strip():
            return Found(left_out=note)
        return None

    return look


def verify_bundle(zip_bytes: BundleSource | BundleContents, trust_root_pem: bytes, *,
                  path_check: PathCheck | None = None, expected_actor: ExpectedActor | None = None,
                  known_head: SignedTreeHead | None = None,
                  consistency_proof: Sequence[bytes] | None = None) -> CaseReport:
    """Verify a bundle offline against the agency root the auditor trusts (never the bundle's own copy). It may be
    given read already (`read_bundle`): a bundle's evidence files are then not read and hashed a second time."""
    try:
        root = load_certificate(trust_root_pem)
    except SignatureError as exc:
        raise BundleError(f"the trust root is not a readable PEM certificate: {exc}") from exc
    contents = zip_bytes if isinstance(zip_bytes, BundleContents) else read_bundle(zip_bytes)
    intermediates = [c for c in contents.certificates if fingerprint(c) != fingerprint(root)]
    trust = TrustStore([root], intermediates=intermediates, crls=contents.crls)
    manifest = _check_manifest(contents, trust)
    extra = [manifest.check, manifest.files]
    if contents.problems:
        extra.append(failed(Check.FILES, "; ".join(contents.problems)))
    return verify_case(contents.records, trust=trust, certificates=contents.certificates,
                       tree_head=contents.tree_head, inclusion_proofs=contents.proofs, documents=contents.documents,
                       path_check=path_check, expected_actor=expected_actor, known_head=known_head,
                       consistency_proof=consistency_proof, extra_case_checks=extra,
                       disclosures=contents.disclosures, withheld_documents=manifest.withheld,
                       evidence=_evidence_lookup(manifest, contents.evidence))
