"""`python -m signatures verify case.zip --trust root.pem [--json]` - the offline verifier.

Exit status: 0 valid, 1 invalid (the report names the first failure), 2 unusable input (one line on
stderr). Needs no database, no server and no engine code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from signatures.bundle import verify_bundle
from signatures.errors import BundleError

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m signatures", description="Verify casetrail evidence bundles.")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="verify an evidence bundle offline")
    verify.add_argument("bundle", type=Path, help="the evidence bundle (.zip)")
    verify.add_argument("--trust", type=Path, required=True, help="the agency root certificate (PEM) you trust")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status instead of exiting (testable)."""
    args = _parser().parse_args(argv)
    try:
        trust = args.trust.read_bytes()
        with args.bundle.open("rb") as bundle:  # evidence files are hashed as they stream past, never all in memory
            report = verify_bundle(bundle, trust)
    except (OSError, BundleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.json:
        print(json.dumps(report.to_json_obj(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
    return EXIT_VALID if report.ok else EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
