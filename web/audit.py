"""Audit (role auditor): verify one case or all, verify an uploaded evidence bundle, the signed tree head.

The page calls the very verification `casetrail verify` and `casetrail verify-bundle` run — the engine's
`verify_cases` over the stored records, `verify_bundle_file` for an uploaded bundle (the signatures library's
offline checks against the root the auditor uploads, never the bundle's own copy, plus the replay through the
BPMN model shipped in the bundle) — and only renders their `CaseReport`s: green/red per check, the first
failure named. The verdict comes first ("20/20 steps valid", or the first failing step with its check), the
details below it; check names are the catalogue's (`check.<name>` in web/messages.py), in the page's language.

The agency root certificate is downloadable here with its SHA-256 fingerprint, the same `casetrail ca root
--fingerprint` prints, so an auditor can compare it over another channel: a bundle is never checked against the
copy it carries.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from flask import Blueprint, Response, current_app, render_template, request, send_file

from engine import (
    CasetrailError,
    EvidencePolicy,
    agency_root,
    cases_page,
    current_tree_head,
    export_case_to,
    verify_bundle_file,
    verify_cases,
)
from signatures.bundle_layout import FINGERPRINT_COMMAND, ROOT_FILE, bundle_file_name, verify_command
from signatures.errors import SignatureError
from signatures.evidence import EVIDENCE_DIR
from web.cases import cases_per_page, page_arg
from web.ops import count_verification_failures
from web.security import current_user, role_required, svc

bp = Blueprint("audit", __name__, url_prefix="/audit")

# How large an uploaded bundle may be, and what it may claim once inflated, is settings.json `evidence`
# (`bundle_upload_max_bytes`, `bundle_in_memory_max_bytes`, `bundle_max_file_bytes`: see `_refusal`).
TRUST_ROOT_BYTES = 64 * 1024  # a root certificate in PEM or DER is a few kilobytes
FORM_OVERHEAD = 1024 * 1024  # the multipart framing and the CSRF token around the two files
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CheckRow:
    check: str
    status: str  # passed | failed | not_checked
    reason: str


@dataclass(frozen=True)
class StepRow:
    """One step record (or the case as a whole, seq None) with its checks; failed ones first."""

    seq: int | None
    task: str
    actor: str
    checks: tuple[CheckRow, ...]
    task_name: str = ""

    @property
    def ok(self) -> bool:
        return not any(c.status == "failed" for c in self.checks)

    @property
    def failed(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if c.status == "failed")


@dataclass(frozen=True)
class FirstFailure:
    """Where the report's first failure is: a step (seq, spec id, name) or the case (seq None), and which check."""

    seq: int | None
    task: str
    task_name: str
    check: str
    reason: str


@dataclass(frozen=True)
class ReportView:
    subject: str
    ok: bool
    first_failure: str
    steps: tuple[StepRow, ...]
    failure: FirstFailure | None = None

    @property
    def total(self) -> int:
        """Steps (records) the report covers; the case-level row is not one."""
        return sum(1 for s in self.steps if s.seq is not None)

    @property
    def valid(self) -> int:
        return sum(1 for s in self.steps if s.seq is not None and s.ok)


def _rows(checks: Any) -> tuple[CheckRow, ...]:
    return tuple(CheckRow(str(c.check), str(c.status), c.reason) for c in checks)


def report_view(subject: str, report: Any) -> ReportView:
    """A signatures `CaseReport` (case checks, then one StepResult per record) as rows to render."""
    steps = [StepRow(None, "", "", _rows(report.case_checks))]
    steps += [StepRow(s.seq, s.task_spec_id, s.actor, _rows(s.checks), s.task_name) for s in report.steps]
    failure = report.first_failure
    where = None
    if failure is not None:
        step = next((s for s in steps if s.seq is not None and s.seq == failure.seq), None)
        where = FirstFailure(failure.seq, step.task if step else "", step.task_name if step else "",
                             str(failure.check), failure.reason)
    return ReportView(subject, report.ok is True, "" if failure is None else str(failure), tuple(steps), where)


def refused(subject: str, reason: str) -> ReportView:
    return ReportView(subject, False, reason, ())


def _render(**kwargs: Any) -> Any:
    # One page of the cases they may read to pick from (most recently changed first); any other case is typed by
    # its number. `page.agencies`: the agencies they read beyond their own, to verify one subtree of.
    page = cases_page(svc(), viewer_id=_reader(), page=page_arg(), per_page=cases_per_page())
    head = current_tree_head(svc())
    return render_template("audit/index.html", page=page, cases=page.items,
                           tree_head=None if head is None else head.to_json_obj(), root=agency_root(svc()),
                           verify_command=verify_command("<N>"),
                           fingerprint_command=FINGERPRINT_COMMAND,
                           reports=kwargs.pop("reports", []), problem=kwargs.pop("problem", None), **kwargs)


@bp.get("")
@role_required("auditor")
def index() -> Any:
    return _render()


@bp.post("/verify")
@role_required("auditor")
def verify() -> Any:
    refs = None if request.form.get("scope") == "all" else [request.form.get("case", "").strip()]
    # With every case: those of one agency and the agencies below it, when one is picked (the log is one for all).
    agency = ((request.form.get("agency") or "").strip() or None) if refs is None else None
    try:
        found = verify_cases(svc(), refs, clock=current_app.extensions["casetrail.clock"], reader=_reader(),
                             agency=agency)
    except CasetrailError as exc:
        return _render(reports=[refused(", ".join(refs or ["*"]), exc.message)]), exc.http_status
    count_verification_failures(sum(not r.ok for r in found))
    return _render(reports=[report_view(r.case_number or r.case_id, r) for r in found])


@bp.get("/cases/<int:case_id>/bundle")
@role_required("auditor")
def export(case_id: int) -> Any:
    """The case's evidence bundle (zip), for checking offline with `python -m signatures verify`. Written to a
    temporary file and sent from there: its evidence files stream from the store, never all in memory."""
    spooled = tempfile.TemporaryFile(prefix="casetrail-export-")  # noqa: SIM115 - send_file closes it
    try:
        export_case_to(svc(), str(case_id), spooled, clock=current_app.extensions["casetrail.clock"],
                       reader=_reader())
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return send_file(spooled, mimetype="application/zip", as_attachment=True,
                     download_name=bundle_file_name(str(case_id)))


def _reader() -> str:
    """The auditor asking: they verify and export the cases they may read (their agency and those under it)."""
    user = current_user()
    assert user is not None
    return user.id


@bp.get("/root.pem")
@role_required("auditor")
def root_pem() -> Any:
    """The agency root certificate (PEM): what `verify-bundle --trust` takes."""
    return _attachment(agency_root(svc()).pem, "application/x-pem-file", ROOT_FILE)


@bp.get("/root.der")
@role_required("auditor")
def root_der() -> Any:
    """The same certificate in DER, for tools that import no PEM (its SHA-256 is the fingerprint shown)."""
    return _attachment(agency_root(svc()).der, "application/pkix-cert", ROOT_FILE.replace(".pem", ".der"))


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.url_value_preprocessor
def _body_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A bundle with its evidence files is far above the app's limit for a form post: its own limit is set before
    anything reads the body (the CSRF check reads the form before the view runs; these run before it)."""
    if endpoint == "audit.bundle":
        request.max_content_length = svc().settings.evidence.bundle_upload_max_bytes + TRUST_ROOT_BYTES + \
            FORM_OVERHEAD


@bp.post("/bundle")
@role_required("auditor")
def bundle() -> Any:
    """An evidence bundle checked offline against the root certificate the auditor uploads with it."""
    upload = request.files.get("bundle")
    trust = request.files.get("trust")
    if upload is None or not upload.filename:
        return _render(problem="audit.need_bundle"), 422
    name = upload.filename
    if trust is None or not trust.filename:
        return _render(reports=[refused(name, "未提供根证书，无法核验 (no trust root given: nothing is trusted)")]), 422
    policy = svc().settings.evidence
    with tempfile.TemporaryFile(prefix="casetrail-bundle-") as spooled:
        if not _stream(upload.stream, spooled, policy.bundle_upload_max_bytes):
            return _render(problem="audit.too_big"), 413
        if (too_big := _refusal(spooled, policy)) is not None:
            return _render(reports=[refused(name, too_big)]), 413
        try:
            report = verify_bundle_file(spooled, trust.read(TRUST_ROOT_BYTES))
        except SignatureError as exc:
            return _render(reports=[refused(name, f"证据包无法使用 (unusable bundle): {exc}")]), 422
    return _render(reports=[report_view(name, report)])


def _stream(source: IO[bytes], target: IO[bytes], limit: int) -> bool:
    """Copy `source` into `target` a megabyte at a time; False when it holds more than `limit` bytes."""
    copied = 0
    while chunk := source.read(CHUNK):
        copied += len(chunk)
        if copied > limit:
            return False
        target.write(chunk)
    target.seek(0)
    return True


def _refusal(bundle: IO[bytes], policy: EvidencePolicy) -> str | None:
    """Why the zip is not opened (None: it may be), from what its members claim to inflate to — zipfile never
    inflates a member past its claim — before anything is inflated. A bundle `casetrail export` makes carries
    each evidence file stored as it is, up to `evidence.bundle_max_file_bytes`, and keeps its other members (the
    records, 文书, certificates, the model: what the verifier reads into memory) within megabytes; a zip bomb
    claims far more than either. Not a zip: None (the verifier says why it is unusable)."""
    try:
        with zipfile.ZipFile(bundle) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError):
        return None
    finally:
        bundle.seek(0)
    carried = [i for i in infos if i.filename.startswith(EVIDENCE_DIR)]
    if (over := next((i for i in carried if i.file_size > policy.bundle_max_bytes), None)) is not None:
        return (f"证据包中的文件 {over.filename} 解压后 {over.file_size} 字节，超过单个文件上限 {policy.bundle_max_bytes} "
                f"(a carried file inflates past evidence.bundle_max_file_bytes: not a bundle the system makes)")
    if sum(i.file_size for i in carried) > policy.bundle_upload_max_bytes:
        return (f"证据包中的文件解压后超过 {policy.bundle_upload_max_bytes} 字节 (the carried files inflate past "
                "evidence.bundle_upload_max_bytes)")
    if sum(i.file_size for i in infos if i not in carried) > policy.bundle_in_memory_max_bytes:
        return (f"证据包的记录和文书解压后超过 {policy.bundle_in_memory_max_bytes} 字节 (its records and documents "
                "inflate past evidence.bundle_in_memory_max_bytes: a zip bomb)")
    return None
