"""Audit commands of the `casetrail` CLI: ca, log, verify, export, verify-bundle.

Exit status of `verify` and `verify-bundle`: 0 valid, 1 invalid (the report names the first failing step
and why), 2 unusable input (no such case, unreadable bundle or trust root, a database that cannot be read)
with one line on stderr. An outage is never reported as tampering.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from engine.cli_support import current_clock, emit, fail, handle_errors, services
from engine.errors import CasetrailError

EXIT_VALID, EXIT_INVALID = 0, 1  # unusable: 2, through engine.cli_support.fail like every command's error


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CasetrailError(f"无法读取文件 (cannot read) {path}: {exc.strerror}") from exc


def _kept_head(path: Path | None):  # noqa: ANN202 - SignedTreeHead, imported lazily
    if path is None:
        return None
    from signatures.errors import SignatureError
    from signatures.treehead import SignedTreeHead

    try:
        return SignedTreeHead.from_kept_json(_read(path))
    except SignatureError as exc:
        raise CasetrailError(f"树头文件无法读取 (unreadable tree head {path}): {exc}") from exc


@click.group()
def ca() -> None:
    """The agency's certificate authority."""


@ca.command("root")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the root certificate (PEM) here; default: print it")
@click.option("--fingerprint", "only_fingerprint", is_flag=True,
              help="print only its SHA-256 fingerprint (hex), to compare with the audit page's over another channel")
@handle_errors
def ca_root(out: Path | None, only_fingerprint: bool) -> None:
    """Export the agency root certificate: what auditors pass to verify-bundle --trust."""
    from engine.usecases.audit import agency_root

    root = agency_root(services())
    if only_fingerprint:
        click.echo(root.fingerprint)
        return
    if out is None:
        click.echo(root.pem.decode(), nl=False)
        return
    out.write_bytes(root.pem)
    click.echo(f"root certificate written to {out} (sha256 fingerprint {root.fingerprint})")


@ca.command("seal")
@click.argument("code")
@click.option("--replace", is_flag=True,
              help="issue a new seal in place of the agency's current one (revoked from now; what it sealed still verifies)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def ca_seal(code: str, replace: bool, as_json: bool) -> None:
    """Issue agency CODE its own electronic seal (电子印章) from the platform CA."""
    from engine.agency_seals import issue_seal_for_row

    name, fp = issue_seal_for_row(services(), code, now=current_clock()(), replace=replace)
    emit({"agency": code, "name": name, "fingerprint": fp, "replaced": replace}, as_json, lambda: click.echo(
        f"机构 {code}（{name}）的电子印章已签发 (seal issued for agency {code}, {name}): sha256 fingerprint {fp}"))


@click.group()
def log() -> None:
    """The append-only Merkle log of all step records (RFC 9162)."""


@log.command("head")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def log_head(as_json: bool) -> None:
    """Print the latest signed tree head (signing a new one when the log grew)."""
    from engine.journal import sign_tree_head_if_grown

    head, signed = sign_tree_head_if_grown(services(), clock=current_clock())
    if head is None:
        raise CasetrailError("日志为空，尚无树头 (the log is empty: no tree head yet)")
    th = head.tree_head
    emit(head.to_json_obj(), as_json, lambda: click.echo(
        f"size {th.size} root {th.root_hash.hex()} at {th.timestamp}{' (new)' if signed else ''}"))


@log.command("prove")
@click.option("--from", "old_size", type=int, default=None, help="size of the older head (as stored)")
@click.option("--known", "known_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="an older head you kept (the JSON of `log head --json`)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def log_prove(old_size: int | None, known_path: Path | None, as_json: bool) -> None:
    """Consistency proof from an older head to the latest; exit 1 if the log was truncated or rewritten."""
    from engine.usecases.audit import prove_log
    from signatures.errors import SignatureError

    try:
        proof = prove_log(services(), old_size=old_size, known=_kept_head(known_path), clock=current_clock())
    except SignatureError as exc:
        click.echo(f"INCONSISTENT: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    emit(proof.to_json(), as_json, lambda: click.echo(
        f"size {proof.old.tree_head.size} -> {proof.new.tree_head.size}: consistent "
        f"({len(proof.hashes)} hashes)\n" + "\n".join(h.hex() for h in proof.hashes)))


def _render(reports: Sequence, as_json: bool) -> int:
    ok = all(r.ok for r in reports)
    if as_json:
        click.echo(json.dumps([r.to_json_obj() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            click.echo(report.to_text())
    return EXIT_VALID if ok and reports else EXIT_INVALID


@click.command()
@click.argument("case_refs", nargs=-1)
@click.option("--all", "all_cases", is_flag=True, help="verify every case")
@click.option("--agency", "agency", default=None,
              help="with --all: the cases of this agency and of the agencies below it")
@click.option("--known", "known_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="an older tree head you kept: also prove the log still extends it")
@click.option("--rehash", is_flag=True,
              help="read every evidence file through and compare its SHA-256 (default: present, with its signed size)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def verify(case_refs: tuple[str, ...], all_cases: bool, agency: str | None, known_path: Path | None, rehash: bool,
           as_json: bool) -> None:
    """Re-check cases step by step: signatures, certificates, chain, log, documents, agency seal, evidence files,
    path."""
    from engine.usecases.audit import verify_cases

    if bool(case_refs) == all_cases:
        fail("give case numbers/ids or --all (not both)")
    if agency is not None and not all_cases:
        fail("--agency goes with --all (verify --all --agency CODE)")
    reports = verify_cases(services(), None if all_cases else list(case_refs), clock=current_clock(),
                           known_head=_kept_head(known_path), rehash=rehash, agency=agency)
    sys.exit(_render(reports, as_json))


@click.command("export")
@click.argument("case_ref")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--disclose", is_flag=True,
              help="include the complainant's identity (values and salts of the sealed fields) for --by USER")
@click.option("--by", "by", default=None, help="the user the disclosing bundle is for (intake, officer or head)")
@handle_errors
def export(case_ref: str, out: Path, disclose: bool, by: str | None) -> None:
    """Write the case's evidence bundle (records, certificates, CRL, tree head, proofs, documents, evidence files,
    model).

    Without --disclose it is the auditor's: the complainant's identity and open votes only as signed digests."""
    from engine.usecases.audit import export_case_to

    if disclose != (by is not None):
        fail("--disclose needs --by USER (and --by is only for --disclose)")
    part = out.with_name(f".{out.name}.part")  # a refused or broken export leaves no bundle behind
    try:
        with part.open("wb") as target:
            export_case_to(services(), case_ref, target, clock=current_clock(), disclose_to=by)
        part.replace(out)
    except OSError as exc:
        raise CasetrailError(f"无法写入 (cannot write) {out}: {exc.strerror}") from exc
    finally:
        part.unlink(missing_ok=True)
    click.echo(f"evidence bundle written to {out} ({out.stat().st_size} bytes)")


@click.command("verify-bundle")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trust", "trust", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the agency root certificate (PEM) you trust")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def verify_bundle(bundle: Path, trust: Path, as_json: bool) -> None:
    """Verify an evidence bundle offline: no database, no server."""
    from engine.usecases.audit import verify_bundle_file
    from signatures.errors import BundleError

    try:
        with bundle.open("rb") as source:  # read from the file: its evidence files are streamed, never all in memory
            report = verify_bundle_file(source, _read(trust))
    except OSError as exc:
        fail(f"无法读取文件 (cannot read) {bundle}: {exc.strerror}")
        return
    except (BundleError, CasetrailError) as exc:
        fail(exc)
        return
    status = _render([report], as_json)
    if not as_json:  # which agency sealed it: the seal check names it (its reason, passed or not)
        from signatures.report import Check

        click.echo(f"agency seal: {report.case_check(Check.SEAL).reason}")
    sys.exit(status)


@click.command("dossier")
@click.argument("case_ref")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def dossier(case_ref: str, out: Path) -> None:
    """Write the case dossier (案卷): every 文书, the path taken, the signature manifest; sealed."""
    from engine.usecases.dossier import build_case_dossier

    data = build_case_dossier(services(), case_ref, clock=current_clock())
    out.write_bytes(data)
    click.echo(f"dossier written to {out} ({len(data)} bytes)")


def commands() -> tuple[click.Command, ...]:
    return (ca, log, verify, export, verify_bundle, dossier)
