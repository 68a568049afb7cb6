"""`casetrail notifications list` and the worker's deadline notices and mail, through the command line."""

from __future__ import annotations

import json

from engine.usecases.inbox import set_notice_choices
from engine.values import SetNoticeChoices, fixed_clock
from tests.conftest import at
from tests.dbtemplates import open_services
from tests.integration.test_cli import _open
from tests.integration.test_cli import cli as cli  # noqa: F401  (the fixture)
from tests.integration.test_notice_mail import smtp_server as smtp_server  # noqa: F401  (the fixture)


def test_a_new_case_is_in_the_heads_inbox_as_json_and_as_text(cli, tmp_path) -> None:
    opened = _open(cli, tmp_path)
    listed = json.loads(cli("notifications", "list", "--user", "head", "--json").output)
    assert [(n["kind"], n["case_number"], n["task_spec_id"], n["by"], n["read_at"]) for n in listed] == [
        ("offered", opened["number"], "acceptance_review", "clerk", None)]
    assert json.loads(cli("notifications", "list", "--user", "head", "--unread", "--json").output) == listed
    assert json.loads(cli("notifications", "list", "--user", "officer1", "--json").output) == []
    text = cli("notifications", "list", "--user", "head").output
    assert "有新的待办任务" in text and opened["number"] in text and "受理" in text


def test_the_worker_mails_a_head_who_chose_offers_by_mail(cli, tmp_path, db_url, monkeypatch, smtp_server) -> None:
    inbox, port = smtp_server
    svc = open_services(db_url, tmp_path / "data" / "keys")
    try:
        set_notice_choices(SetNoticeChoices(user_id="head", email="head@agency.example",
                                            mailed=frozenset({"offered"})), svc=svc, clock=fixed_clock(at("2026-11-01 09:00")))
    finally:
        svc.engine.dispose()
    opened = _open(cli, tmp_path)
    monkeypatch.setenv("CASETRAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CASETRAIL_SMTP_PORT", str(port))
    monkeypatch.setenv("CASETRAIL_PUBLIC_URL", "https://cases.example/")
    result = cli("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "mail: 1 sent, 0 failed" in result.output
    [(tos, message)] = inbox.messages
    assert tos == ["head@agency.example"] and opened["number"] in message["Subject"]
    assert "https://cases.example/tasks/" in message.get_content()
    monkeypatch.setenv("CASETRAIL_SMTP_PORT", "not-a-port")
    refused = cli("worker", "--once")
    assert refused.exit_code == 2 and "CASETRAIL_SMTP_PORT" in refused.output
