#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) for casetrail: system packages, a virtualenv, the package.
# Idempotent: safe to run again; skips apt when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # WeasyPrint's native libraries
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1
  # a full CJK font for the documents (文书)
  fonts-wqy-zenhei
  # pdftotext, pdftoppm, pdfsig for tests and screenshots; certutil for pdfsig's trust store
  poppler-utils libnss3-tools
  # openssl CLI: the evidence-bundle test verifies a record with it
  openssl
  # a real browser for the browser tests
  chromium
  # nginx for the browser test of uploads behind it, routed as docs/deployment.md deploys them; the test runs an
  # nginx process of its own (its own config and prefix, a free port), never the system's service
  nginx-light
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing system packages (${missing[*]}); run as root or install them" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
