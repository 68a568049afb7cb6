"""The `casetrail` console script: the engine's commands plus `demo` and `serve`, which need the web app.

It lives in web/ because the layers run web -> engine: the engine's CLI cannot import the web app.
"""

from __future__ import annotations

import os
import sys

import click

from engine.cli import main as engine_main
from engine.cli_support import current_clock, data_dir, handle_errors, services


@click.command()
@click.option("--seed-only", is_flag=True, help="seed the demo data and exit")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@handle_errors
def demo(seed_only: bool, host: str, port: int) -> None:
    """Seed demo users and cases (once), then serve the workbench."""
    from engine import seed_demo

    svc = services()
    result = seed_demo(svc, today=current_clock()())
    if result.agency_keys_recreated is not None:
        click.echo(f"机构密钥已重新生成，自 {result.agency_keys_recreated:%Y-%m-%d} 起有效 (agency keys re-created, valid "
                   f"from {result.agency_keys_recreated:%Y-%m-%d %H:%M}Z, where the demo's history starts); export the "
                   "root again: casetrail ca root --out root.pem")
    if result.skipped:
        click.echo("demo data already present; not seeded again")
    else:
        click.echo(f"seeded {result.users} users and {result.cases} cases (password demo-pass-2026, PIN 123456)")
    if seed_only:
        return
    from web.serve import serve as run_server

    click.echo(f"serving on http://{host}:{port}/")
    run_server(svc, host=host, port=port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int)
@click.option("--replica-url", default=None, envvar="CASETRAIL_DATABASE_REPLICA_URL", metavar="URL",
              help="a read replica of the database for the pages that tolerate lag (indicators, /public, case "
                   "lists); [env: CASETRAIL_DATABASE_REPLICA_URL]")
@handle_errors
def serve(host: str, port: int, workers: int | None, replica_url: str | None) -> None:
    """Serve the workbench (gunicorn)."""
    from web.serve import serve as run_server

    # On the clock the caller gave the command (the system's, unless a test or a replay runs it on its own).
    run_server(services(replica_url=(replica_url or "").strip() or None), host=host, port=port, workers=workers,
               config={"CASETRAIL_CLOCK": current_clock()})


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--app-url", default="http://127.0.0.1:5000", show_default=True, envvar="CASETRAIL_APP_URL",
              metavar="URL", help="where the app (`casetrail serve`) listens, as this host reaches it "
                                  "[env: CASETRAIL_APP_URL]")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=32, show_default=True, type=click.IntRange(1, 1024),
              help="uploads taken at once by each worker")
@handle_errors
def receiver(host: str, port: int, app_url: str, workers: int, threads: int) -> None:
    """Take the bytes of evidence uploads in a lean process beside the app (nginx routes /uploads/<id> here:
    docs/deployment.md); every decision stays the app's."""
    argv = [sys.executable, "-m", "web.receiver", "--host", host, "--port", str(port), "--app-url", app_url,
            "--data-dir", str(data_dir()), "--workers", str(workers), "--threads", str(threads)]
    # A fresh interpreter: this one has the engine loaded, which the receiver's processes would otherwise carry.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


engine_main.add_command(demo)
engine_main.add_command(serve)
engine_main.add_command(receiver)
main = engine_main

if __name__ == "__main__":
    main()
