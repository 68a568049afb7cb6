"""A plain install — `pip install .`, no extras, in a fresh virtualenv — runs every `casetrail` command, in the
order an operator uses: `init`, then `demo --seed-only`, then the rest. Whatever a command imports must be a
declared dependency, and the demo seeded after `init` must verify (its agency keys re-created to predate it)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.demo_files import demo_photo
from engine.demo_users import DEMO_PIN
from engine.spiff.driving import intake_data
from engine.values import system_clock
from tests.cached import cached_directory, key_of
from tests.conftest import link_font_cache
from tests.integration.cli_surface import casetrail_commands, command_of
from tests.integration.test_cli_faults import _closed_port
from tests.integration.test_cli_readme import FORMS

REPO = Path(__file__).resolve().parents[2]
PACKAGED = ("pyproject.toml", "README.md", "engine", "signatures", "documents", "web", "workflows")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip(*args: str) -> str:
    """This environment's pip (with `--python`, installing into another one)."""
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def _dependencies() -> Path:
    """The declared dependencies (pyproject's `dependencies`, no extras) as wheels, with the build requirements'
    (wheels/), and installed from those alone into a virtualenv of their own (site-packages/): built once per
    machine for each set of them, as pip would install them into any fresh virtualenv."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared, build = project["project"]["dependencies"], project["build-system"]["requires"]

    def build_once(into: Path) -> None:
        _pip("wheel", "-q", "--wheel-dir", str(into / "wheels"), *declared, *build)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(into / "venv")], check=True)
        _pip("--python", str(into / "venv" / "bin" / "python"), "install", "-q", "--no-index", "--find-links",
             str(into / "wheels"), *declared)
        _site_packages(into / "venv").rename(into / "site-packages")
        shutil.rmtree(into / "venv")

    key = key_of(declared, build, sys.version_info[:2], sysconfig.get_platform())
    return cached_directory(f"plain-install-{key}", build_once)


def _install(tmp_path: Path) -> Path:
    """A fresh virtualenv (no system site packages) with the package built from a copy of the sources. Its
    site-packages starts as the declared dependencies' (hard links to the cached install); pip then installs the
    package alone, finding its build requirements among the cached wheels and nothing on an index. Whatever a
    command imports and is not declared is missing here."""
    source = tmp_path / "source"
    source.mkdir()
    for name in PACKAGED:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    dependencies = _dependencies()
    shutil.copytree(dependencies / "site-packages", _site_packages(venv), dirs_exist_ok=True, copy_function=os.link)
    python = str(venv / "bin" / "python")
    _pip("--python", python, "install", "-q", "--no-index", "--no-deps", "--find-links", str(dependencies / "wheels"),
         str(source))
    # What is installed is the package and what its declared dependencies bring, nothing else (the test extra's
    # pytest, for one); `pip check`: every requirement of every installed distribution, the package's declared
    # dependencies first, is met.
    installed = {_canonical(d["name"]) for d in json.loads(_pip("--python", python, "list", "--format", "json"))}
    fetched = {_canonical(wheel.name.split("-")[0]) for wheel in (dependencies / "wheels").glob("*.whl")}
    assert "casetrail" in installed and "pytest" not in installed and installed - {"casetrail", "pip"} <= fetched, \
        installed - fetched
    _pip("--python", python, "check")
    return venv / "bin" / "casetrail"


class Operator:
    def __init__(self, casetrail: Path, cwd: Path, env: dict[str, str]) -> None:
        self.casetrail, self.cwd, self.env = casetrail, cwd, env
        self.ran: set[tuple[str, ...]] = set()

    def __call__(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([str(self.casetrail), *args], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == expect, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, done.stderr
        self.ran.add(command_of(args))
        return done

    def serves(self, *args: str) -> None:
        """Start a server command, wait for the login page, stop it."""
        port = _closed_port()
        server = subprocess.Popen([str(self.casetrail), *args, "--port", str(port)], cwd=self.cwd, env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                assert server.poll() is None, server.communicate()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                        assert page.status == 200 and "登录" in page.read().decode()
                        break
                except OSError:
                    assert time.monotonic() < deadline, f"{args} did not come up"
                    time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=60)
        self.ran.add(command_of(args))

    def receives(self) -> None:
        """Start the upload receiver (which execs a lean interpreter of the installed package) before an app that
        is not there: it serves, says so in one clear 503, and stops."""
        port, app = _closed_port(), _closed_port()
        receiver = subprocess.Popen([str(self.casetrail), "receiver", "--port", str(port), "--app-url",
                                     f"http://127.0.0.1:{app}"], cwd=self.cwd, env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert receiver.poll() is None, receiver.communicate()
                request = urllib.request.Request(f"http://127.0.0.1:{port}/uploads/{'0' * 32}", method="HEAD")
                try:
                    urllib.request.urlopen(request, timeout=5)
                except urllib.error.HTTPError as answer:
                    assert answer.code == 503 and answer.headers["Retry-After"] == "5"
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the receiver did not come up"
                    time.sleep(0.3)
        finally:
            receiver.terminate()
            receiver.wait(timeout=60)
        self.ran.add(("receiver",))


@pytest.mark.slow
def test_a_plain_install_runs_every_command_after_init_then_demo(tmp_path, font_cache):
    casetrail = _install(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRAIL_") and k != "PYTHONPATH"}
    env["CASETRAIL_DATA_DIR"] = str(tmp_path / "data")
    link_font_cache(tmp_path / "data", font_cache)  # the subset font, already built (documents/fonts.py)
    run = Operator(casetrail, work, env)

    assert "database ready" in run("init").stdout
    run("ca", "root", "--out", "before-demo.pem")
    seeded = run("demo", "--seed-only").stdout
    assert "agency keys re-created" in seeded and "seeded 36 users and 29 cases" in seeded
    run("ca", "root", "--out", "root.pem")
    assert (work / "root.pem").read_bytes() != (work / "before-demo.pem").read_bytes()

    run("user", "add", "officer9", "--name", "钱承办", "--role", "officer", "--password", "pw-lantern-2026", "--pin", DEMO_PIN,
        "--cert-no", "呈卫执 2026-0009", "--cert-valid-until", "2020-12-31")
    assert "officer9" in run("user", "list").stdout
    run("agency", "add", "cz-bh", "--name", "呈州市北湖区卫生健康局", "--short", "北卫", "--parent", "cz", "--level",
        "county", "--case-prefix", "北卫投", "--penalty-prefix", "北卫罚", "--user", "admin")
    run("agency", "edit", "cz-bh", "--court", "呈州市北湖区人民法院", "--user", "admin")
    run("agency", "set", "cz-bh", "--setting", "legal_review.all_general_procedure=false", "--user", "admin")
    assert "北湖区、湖滨街道" in run("agency", "areas", "cz-bh", "--set", "北湖区", "--set", "湖滨街道", "--user",
                                 "admin").stdout
    run("ca", "seal", "cz-bh", "--replace")  # agency add issued one; a new one takes its place
    assert "北卫罚告" in run("agency", "show", "cz-bh").stdout
    assert "  cz-bh  呈州市北湖区卫生健康局" in run("agency", "list").stdout
    run("user", "set-agency", "officer9", "--agency", "cz-bh")
    assert "cz-bh" in run("user", "list").stdout
    run("user", "set-agency", "officer9", "--agency", "cz", "--by", "admin", "--reason", "调回")
    run("agency", "deactivate", "cz-bh", "--reason", "区划调整", "--user", "admin")
    assert "officer9" not in run("user", "eligible", "--role", "officer").stdout  # its 执法证 has lapsed
    run("user", "set-cert", "officer9", "--cert-no", "呈卫执 2026-0009", "--cert-valid-until", "2031-06-30")
    assert "呈卫执 2026-0009" in run("user", "eligible", "--role", "officer").stdout
    (work / "complaint.json").write_text(json.dumps(intake_data(now=system_clock()), ensure_ascii=False), encoding="utf-8")
    number = json.loads(run("case", "open", "--data", "complaint.json", "--user", "clerk", "--pin", DEMO_PIN,
                            "--json").stdout)["number"]
    assert number in {c["number"] for c in json.loads(run("case", "list", "--json").stdout)}
    assert "stage=acceptance" in run("case", "show", number).stdout
    [task] = [t for t in json.loads(run("task", "list", "--user", "head", "--json").stdout) if t["case_number"] == number]
    assert json.loads(run("task", "show", task["id"], "--json").stdout)["spec_id"] == "acceptance_review"
    run("task", "claim", task["id"], "--user", "head")
    run("task", "unclaim", task["id"], "--user", "head")
    run("task", "assign", task["id"], "--to", "head2", "--by", "head", "--reason", "出差", "--pin", DEMO_PIN)
    (work / "form.json").write_text(json.dumps(FORMS["acceptance_review"], ensure_ascii=False), encoding="utf-8")
    run("task", "complete", task["id"], "--user", "head2", "--data", "form.json", "--pin", DEMO_PIN)
    assert "任务已指派给您" in run("notifications", "list", "--user", "head2").stdout  # the hand-over above
    assert "CASETRAIL_SMTP_HOST" in run("notifications", "send", expect=2).stderr  # no mail server configured
    assert "deleted 0 read notices" in run("notifications", "prune").stdout  # nothing read long enough ago
    demo_photo(work / "photo.jpg", taken=system_clock(), lat=31.2, lon=121.4)
    [added] = json.loads(run("evidence", "add", number, "photo.jpg", "--user", "clerk", "--note", "举报人提供",
                             "--json").stdout)
    assert [f["sha256"] for f in json.loads(run("evidence", "list", number, "--user", "clerk", "--json").stdout)] \
        == [hashlib.sha256((work / "photo.jpg").read_bytes()).hexdigest()] == [added["sha256"]]
    assert "collected 0 staged files" in run("evidence", "gc").stdout
    run("timers", "run")
    run("worker", "--once")
    assert "no case needs repair" in run("repair", "--dry-run").stdout
    assert "2027" in run("calendar", "coverage").stdout
    run("calendar", "schedule", "2027", "--reference", "测试数据 TEST（非真实通知）", "--off", "2027-01-01",
        "--user", "admin", "--incomplete")
    for _ in range(5):  # five wrong PINs block the clerk's key; the right one is then refused too
        run("case", "open", "--data", "complaint.json", "--user", "clerk", "--pin", "000000", expect=2)
    assert "blocked" in run("case", "open", "--data", "complaint.json", "--user", "clerk", "--pin", DEMO_PIN,
                            expect=2).stderr
    assert '"blocked": true' in run("user", "pin-state", "clerk", "--json").stdout
    run("user", "unblock-pin", "clerk", "--by", "head", "--reason", "本人确认系输错")
    (work / "new-kek.bin").write_bytes(os.urandom(32))  # rotating the officers' KEK: re-wrap, then install it
    run("user", "rewrap-keys", "--new-kek-file", "new-kek.bin")
    kek = tmp_path / "data" / "keys" / "officer-kek.bin"
    kek.write_bytes((work / "new-kek.bin").read_bytes())
    # The agency's keys: encrypted at rest under their own KEK; rotating it is the same re-wrap, then install.
    assert "unencrypted none" in run("keys", "status").stdout
    assert "nothing to do" in run("keys", "encrypt").stdout
    (work / "new-agency-kek.bin").write_bytes(os.urandom(32))
    run("keys", "rewrap", "--new-kek-file", "new-agency-kek.bin")
    (tmp_path / "data" / "keys" / "agency-kek.bin").write_bytes((work / "new-agency-kek.bin").read_bytes())
    run("user", "set-password", "officer9", "--password", "lantern-quay-2027", "--reason", "忘记密码")
    assert "0 logins ended" in run("user", "end-sessions", "officer9", "--by", "admin", "--reason", "电脑遗失").stdout
    run("user", "set-password", "officer9", "--password", "12345678", expect=2)  # too short and too common
    run("user", "rekey", "officer9", "--pin", "654321")
    run("user", "revoke", "officer9", "--reason", "离职")
    (work / "head.json").write_text(run("log", "head", "--json").stdout, encoding="utf-8")
    assert "consistent" in run("log", "prove", "--known", "head.json").stdout
    run("verify", "--all", "--known", "head.json")
    run("verify", number)
    run("export", number, "--out", "case.zip")
    run("verify-bundle", "case.zip", "--trust", "root.pem")
    run("dossier", number, "--out", "dossier.pdf")
    assert (work / "dossier.pdf").read_bytes().startswith(b"%PDF")
    assert "NOT in this backup" in run("backup", "--out", "backup").stdout
    assert "not empty" in run("restore", "backup", expect=2).stderr  # only ever into an empty database
    assert "current" in run("migrate", "--check").stdout
    figures = json.loads(run("indicators", "--user", "supervisor", "--format", "json").stdout)
    assert figures, "the supervisor reads the city's figures and its districts'"
    built = json.loads(run("indicators", "rebuild", "--json").stdout)
    assert built["built_through"], "the worker built the rollup before: it is up to date"
    assert json.loads(run("indicators", "--user", "supervisor", "--format", "json").stdout) == figures
    # The city's own case is not below the city's supervisor: refused, naming why, nothing written.
    assert run("supervise", "flag", number, "--user", "supervisor", "--instructions", "依法查处", "--due",
               "2099-12-31", "--pin", DEMO_PIN, expect=2).stderr.strip()
    run("supervise", "list", "--user", "supervisor")
    run.serves("serve", "--workers", "1")
    run.serves("demo")
    run.receives()
    assert run.ran == casetrail_commands()

    # Every case's bundle (the demo's and the new one) verifies offline against the root exported after the seed.
    from web.cli import main

    runner = CliRunner(env={"CASETRAIL_DATABASE_URL": None, "CASETRAIL_DATA_DIR": env["CASETRAIL_DATA_DIR"]})
    for case in json.loads(run("case", "list", "--json").stdout):
        bundle = tmp_path / f"case-{case['id']}.zip"
        obj: dict = {}
        assert runner.invoke(main, ["export", case["number"], "--out", str(bundle)], obj=obj).exit_code == 0
        obj["svc"].engine.dispose()
        offline = runner.invoke(main, ["verify-bundle", str(bundle), "--trust", str(work / "root.pem")])
        assert offline.exit_code == 0, offline.output[-3000:]
