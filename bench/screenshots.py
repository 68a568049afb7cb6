"""Screenshots of the workbench for the README: the demo seeded into a throwaway database, served on
127.0.0.1, visited with Debian's Chromium as the users who do the work.

    python bench/screenshots.py [--out docs/images] [--today 2026-11-23]

Writes tasks.png, task.png, case.png, case_documents.png, deliberation.png, legal_review.png, audit.png, public.png,
public_detail.png and dashboard.png (1280×800, the visible window only). The clock is fixed to --today
09:00 Beijing time, so the same date gives the same pictures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
MAX_BYTES = 250 * 1024
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(today: dt.datetime) -> Iterator[tuple[str, Any]]:
    """The demo in a temporary database, served on a free port of 127.0.0.1; yields (base URL, services)."""
    from werkzeug.serving import make_server

    from engine.keystore import ScryptCost
    from engine.rules.settings import load_settings
    from engine.seed import seed_demo
    from engine.startup import build_services
    from web.app import create_app

    with tempfile.TemporaryDirectory(prefix="casetrail-shots-") as tmp:
        os.environ["CASETRAIL_DATA_DIR"] = tmp  # font cache and anything else the app writes
        # A cheap key-derivation cost: this database and its keys are thrown away with the directory.
        svc = build_services(f"sqlite:///{Path(tmp) / 'demo.db'}", settings=load_settings(),
                             keys_dir=Path(tmp) / "keys", kdf_cost=ScryptCost(n=2**10, r=8, p=1))
        print("seeding the demo …", flush=True)
        seed_demo(svc, today=today)
        app = create_app({"SECRET_KEY": "screenshots", "CASETRAIL_CLOCK": lambda: today}, services=svc)
        server = make_server("127.0.0.1", _free_port(), app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", svc
        finally:
            server.shutdown()
            thread.join(timeout=5)
            svc.engine.dispose()


class Shooter:
    def __init__(self, browser: Any, base: str, out: Path) -> None:
        self.context = browser.new_context(base_url=base, locale="zh-CN", viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.out = out
        self.written: list[Path] = []

    def log_in(self, user: str) -> None:
        from engine.demo_users import DEMO_PASSWORD

        self.context.clear_cookies()
        self.page.goto("/login")
        self.page.fill("#user_id", user)
        self.page.fill("#password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, name: str, *, scroll_to: str | None = None) -> None:
        if scroll_to:
            self.page.locator(scroll_to).first.evaluate("e => e.scrollIntoView({block: 'start'})")
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        size = path.stat().st_size
        print(f"  {path.name}: {size // 1024} KB", flush=True)
        if size >= MAX_BYTES:
            raise SystemExit(f"{path.name} is {size} bytes, over {MAX_BYTES}")
        self.written.append(path)


def _task_of(svc: Any, waiting: str) -> Any:
    """The open task of a case the seed leaves `waiting` (engine.spiff.scenarios.WAITING names its step)."""
    from engine.spiff.scenarios import WAITING
    from engine.usecases.tasks import list_tasks

    spec_id = WAITING[waiting][1]
    return next(t for t in list_tasks(svc, limit=100_000) if t.spec_id == spec_id)


def _case_waiting_at(svc: Any, waiting: str) -> Any:
    from engine.usecases.cases import show_case

    return show_case(svc, _task_of(svc, waiting).case_id)


def take(shooter: Shooter, svc: Any) -> None:
    page = shooter.page

    def tasks() -> None:
        shooter.log_in("officer1")
        page.goto("/tasks")
        shooter.shot("tasks")

    def task() -> None:
        from engine.demo_users import DEMO_PIN

        page.goto(f"/tasks/{_task_of(svc, 'party_response').id}")
        page.check("input[name=response][value=statement]")
        page.fill("[name=response_at]", "2026-11-23T08:30")
        page.fill("[name=statement_text]", "当事人称已于11月20日为三名服务员办理健康体检，请求从轻处罚。")
        page.fill("#pin", DEMO_PIN)
        # the end of the form in view: the PIN prompt and the button that signs and completes the step
        page.locator("button.primary").first.evaluate("e => e.scrollIntoView({block: 'end'})")
        page.evaluate("window.scrollBy(0, 24)")
        shooter.shot("task")

    def case() -> None:
        shooter.log_in("head")
        page.goto(f"/cases/{_case_waiting_at(svc, 'decision').id}")
        shooter.shot("case")
        shooter.shot("case_documents", scroll_to="#documents")

    def deliberation() -> None:
        shooter.log_in("panel1")
        page.goto(f"/deliberation/{_case_waiting_at(svc, 'vote').id}")
        shooter.shot("deliberation")

    def legal_review() -> None:
        shooter.log_in("legal")
        page.goto(f"/tasks/{_task_of(svc, 'review').id}")
        shooter.shot("legal_review")

    def audit() -> None:
        shooter.log_in("auditor")
        page.goto("/audit")
        finished = _finished_penalty(svc)
        page.fill("#case", finished.number)
        page.locator("form[action$='/audit/verify'] button").first.click()
        page.wait_for_load_state()
        shooter.shot("audit", scroll_to=".report")

    def public() -> None:
        shooter.context.clear_cookies()
        page.goto("/public")
        shooter.shot("public")
        page.locator("main a[href^='/public/']").first.click()
        page.wait_for_load_state()
        shooter.shot("public_detail")

    def dashboard() -> None:
        shooter.log_in("head")
        page.goto("/dashboard")
        shooter.shot("dashboard")

    steps: list[tuple[str, Callable[[], None]]] = [("tasks", tasks), ("task", task), ("case", case), ("deliberation", deliberation),
             ("legal_review", legal_review), ("audit", audit), ("public", public), ("dashboard", dashboard)]
    for name, step in steps:
        print(f"{name} …", flush=True)
        step()


def _finished_penalty(svc: Any) -> Any:
    from engine.usecases.cases import list_cases

    return next(c for c in list_cases(svc, limit=100_000) if c.outcome == "penalty_published" and c.status == "closed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (Debian's chromium package; scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log
    today = dt.datetime.combine(args.today, dt.time(9, 0), BEIJING).astimezone(dt.UTC)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(today) as (base, svc), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            shooter = Shooter(browser, base, args.out)
            take(shooter, svc)
        finally:
            browser.close()
    print(f"{len(shooter.written)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
