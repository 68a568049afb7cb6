"""Audit (role auditor): verify one case or all, verify an uploaded evidence bundle, the signed tree head.

The page calls the very verification `casetrail verify` and `casetrail verify-bundle` run — the engine's
`verify_cases` over the stored records, `verify_bundle_file` for an uploaded bundle (the signatures library's
offline checks against the root the auditor uploads, never the bundle's own copy, plus the replay through the
BPMN model shipped in the bundle) — and only renders their `CaseReport`s: green/red per check, the first
failure named.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from flask import Blueprint, current_app, render_template, request, send_file

from engine import (
    CasetrailError,
    cases_page,
    current_tree_head,
    export_case_to,
    verify_bundle_file,
    verify_cases,
)
from signatures.errors import SignatureError
from web.cases import cases_per_page, page_arg
from web.security import role_required, svc

bp = Blueprint("audit", __name__, url_prefix="/audit")

MAX_BUNDLE = 50 * 1024 * 1024
# What an uploaded bundle may hold once inflated. Its 文书 are PDFs, which hardly compress: a genuine bundle
# inflates to little more than its size, while a zip bomb of 50 MiB could claim 1 GiB (the library's own bound).
MAX_INFLATED = 2 * MAX_BUNDLE
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

    @property
    def ok(self) -> bool:
        return not any(c.status == "failed" for c in self.checks)

    @property
    def failed(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if c.status == "failed")


@dataclass(frozen=True)
class ReportView:
    subject: str
    ok: bool
    first_failure: str
    steps: tuple[StepRow, ...]


def _rows(checks: Any) -> tuple[CheckRow, ...]:
    return tuple(CheckRow(str(c.check), str(c.status), c.reason) for c in checks)


def report_view(subject: str, report: Any) -> ReportView:
    """A signatures `CaseReport` (case checks, then one StepResult per record) as rows to render."""
    steps = [StepRow(None, "", "", _rows(report.case_checks))]
    steps += [StepRow(s.seq, s.task_spec_id, s.actor, _rows(s.checks)) for s in report.steps]
    failure = report.first_failure
    return ReportView(subject, report.ok is True, "" if failure is None else str(failure), tuple(steps))


def refused(subject: str, reason: str) -> ReportView:
    return ReportView(subject, False, reason, ())


def _render(**kwargs: Any) -> Any:
    # One page of cases to pick from (most recently changed first); any other case is typed by its number.
    page = cases_page(svc(), page=page_arg(), per_page=cases_per_page())
    head = current_tree_head(svc())
    return render_template("audit/index.html", page=page, cases=page.items,
                           tree_head=None if head is None else head.to_json_obj(),
                           reports=kwargs.pop("reports", []), problem=kwargs.pop("problem", None), **kwargs)


@bp.get("")
@role_required("auditor")
def index() -> Any:
    return _render()


@bp.post("/verify")
@role_required("auditor")
def verify() -> Any:
    refs = None if request.form.get("scope") == "all" else [request.form.get("case", "").strip()]
    try:
        found = verify_cases(svc(), refs, clock=current_app.extensions["casetrail.clock"])
    except CasetrailError as exc:
        return _render(reports=[refused(", ".join(refs or ["*"]), exc.message)]), exc.http_status
    return _render(reports=[report_view(r.case_number or r.case_id, r) for r in found])


@bp.get("/cases/<int:case_id>/bundle")
@role_required("auditor")
def export(case_id: int) -> Any:
    """The case's evidence bundle (zip), for checking offline with `python -m signatures verify`. Written to a
    temporary file and sent from there: its evidence files stream from the store, never all in memory."""
    spooled = tempfile.TemporaryFile(prefix="casetrail-export-")  # noqa: SIM115 - send_file closes it
    try:
        export_case_to(svc(), str(case_id), spooled, clock=current_app.extensions["casetrail.clock"])
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return send_file(spooled, mimetype="application/zip", as_attachment=True, download_name=f"case-{case_id}.zip")


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
    with tempfile.TemporaryFile(prefix="casetrail-bundle-") as spooled:
        if not _stream(upload.stream, spooled, MAX_BUNDLE) or _inflated_size(spooled) > MAX_INFLATED:
            return _render(problem="audit.too_big"), 413
        try:
            report = verify_bundle_file(spooled, trust.read(64 * 1024))
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


def _inflated_size(bundle: IO[bytes]) -> int:
    """The bytes the zip's members claim to inflate to (zipfile never inflates a member past its claim);
    0 for what is not a zip — the verifier says why it is unusable."""
    try:
        with zipfile.ZipFile(bundle) as zf:
            return sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError):
        return 0
    finally:
        bundle.seek(0)
