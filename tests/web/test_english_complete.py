"""Every page reads in English when English is chosen: no Chinese outside case data.

Every GET route of the app (its url_map, not a hand-kept list) is opened by every test user on an English
session, with real ids from two played cases; each HTML answer is read with case data taken out, and no CJK
character may remain. Case data is marked in the templates, not guessed here: an element with `data-case` (what
people typed or chose as a value: case numbers, names, the text of a record — the `case_data` filter wraps it),
or one that says it is Chinese and not to be translated (`lang="zh…" translate="no"`: the language switch's
"中文"). Text in attributes that people see or hear (title, aria-label, alt, placeholder) is read too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from engine.usecases.documents import list_documents
from engine.usecases.tasks import claim_task, list_tasks
from engine.values import ClaimTask
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import WITH_EVIDENCE
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN, USERS, login, post

# Kept here, not taken from web/casedata.py: the check must not narrow with the code it checks. CJK punctuation
# (、〔〕), kana, ideographs and the full-width forms (＋, （）) alike: none belongs on an English page.
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
                 r"\uff00-\uffef]")
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                  "wbr"})
SEEN_ATTRIBUTES = ("title", "aria-label", "alt", "placeholder", "data-label")

# A penalty case played to its publication (documents, a deliberation, a public entry), on top of the case at
# 证据登记 with evidence files (an upload widget and files on its task page).
BOTH = WITH_EVIDENCE.then("a published penalty case up to record_payment",
                          lambda svc: play_until(svc, scenario(), "record_payment"))


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, both=BOTH)


@pytest.fixture
def both(model: Flask, db_templates: Any, db_backend: str) -> tuple[Any, Any]:
    """(the evidence case, the published case)."""
    evidence, published = db_templates.results(BOTH, db_backend)[-2:]
    return evidence, published


class _VisibleText(HTMLParser):
    """The text a reader sees or hears, scripts and styles left out, and the case data marked in it.

    An element's content can be marked; a text that cannot hold elements (the <title>, an attribute) is read
    without the marked data of the same page, which it may quote (the page's title is the case number)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quoting: list[str] = []  # titles and attributes: read once the page's data is known
        self.data: list[str] = []  # the text of the marked elements
        self._skip: list[str] = []  # the open elements, from the first skipped one
        self._in_data = False
        self._in_title = False

    @staticmethod
    def _marked(attrs: dict[str, str | None]) -> bool:
        return "data-case" in attrs or ((attrs.get("lang") or "").startswith("zh") and attrs.get("translate") == "no")

    def _attributes(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.quoting.extend(f"{tag}[{name}]={attrs[name]}" for name in SEEN_ATTRIBUTES if attrs.get(name))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if not self._skip:
            if tag in ("script", "style") or self._marked(named):
                self._in_data = tag not in ("script", "style")
            else:
                self._attributes(tag, named)
                self._in_title = tag == "title"
                return
        if tag not in VOID:
            self._skip.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if not self._skip and not self._marked(named):
            self._attributes(tag, named)

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False
        if self._skip and tag in self._skip:
            while self._skip and self._skip.pop() != tag:
                pass
            if not self._skip:
                self._in_data = False

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text:
            return
        if self._skip:
            if self._in_data:
                self.data.append(text)
        elif self._in_title:
            self.quoting.append(f"title={text}")
        else:
            self.parts.append(text)

    def readable(self) -> list[str]:
        """The page's own text: its text nodes, and its titles and attributes without the data they quote."""
        quoted = sorted(set(self.data), key=len, reverse=True)
        out = list(self.parts)
        for piece in self.quoting:
            for datum in quoted:
                piece = piece.replace(datum, "")
            out.append(piece)
        return out


def chinese_outside_case_data(html: str) -> list[str]:
    """The pieces of `html`'s readable text that hold CJK characters, case data left out."""
    reader = _VisibleText()
    reader.feed(html)
    reader.close()
    return [part for part in reader.readable() if CJK.search(part)]


def test_the_check_finds_chinese_and_leaves_marked_case_data_alone():
    page = ('<title>呈卫投〔2026〕0001号 · 案件</title><p>Case <bdi data-case lang="zh-CN">呈卫投〔2026〕0001号 '
            '<b>王某</b></bdi> opened</p><a href="/lang/zh" lang="zh-CN" translate="no">中文</a><img alt="签名"><br>'
            '<p>受理审查</p><span lang="zh-CN">未译</span><script>var s = "脚本";</script><img alt="王某" src="x">')
    assert chinese_outside_case_data(page) == ["受理审查", "未译", "title= · 案件", "img[alt]=签名"]


def _args(both: tuple[Any, Any], svc: Any, case: tuple[int, str]) -> dict[str, str | int]:
    """A real value for each argument a route can take, from `case` (documents and files: from whichever case
    has them)."""
    evidence, published = both
    case_id, number = case
    tasks = list_tasks(svc, case=number)
    assert tasks, f"{number}: no open task"
    [document, *_] = list_documents(svc, published.case.id)
    return {"ref": case_id, "case_id": case_id, "task_id": tasks[0].id, "doc_id": document.id,
            "file_id": evidence.photo, "user_id": "officer1", "code": "en", "filename": "app.css",
            "upload_id": "no-such-upload", "agency_code": "cz", "sha256": "0" * 64}


def _english_client(app: Flask, user_id: str) -> FlaskClient:
    client = app.test_client()
    login(client, user_id)
    client.get("/?lang=en")
    return client


def _cases(both: tuple[Any, Any]) -> list[tuple[int, str]]:
    evidence, published = both
    return [(evidence.case_id, evidence.number), (published.case.id, published.case.number)]


def test_every_page_reads_in_english_apart_from_case_data(model, both, svc):
    clients: dict[str | None, FlaskClient] = {user_id: _english_client(model, user_id) for user_id in USERS}
    clients[None] = model.test_client()  # not logged in: the login and public pages
    clients[None].get("/?lang=en")
    rules = [r for r in model.url_map.iter_rules() if "GET" in (r.methods or ())]
    found: dict[str, list[str]] = {}
    opened: set[str] = set()
    html_pages = 0
    for case in _cases(both):
        args = _args(both, svc, case)
        for rule in rules:
            missing = set(rule.arguments) - set(args)
            assert not missing, f"{rule.rule}: no value for {sorted(missing)} — add one to _args"
            with model.test_request_context():
                url = url_for(rule.endpoint, **{name: args[name] for name in rule.arguments})
            for user_id, client in clients.items():
                response = client.get(url)
                if response.status_code < 400:
                    opened.add(rule.rule)
                if response.mimetype != "text/html":
                    continue  # JSON, a PDF, a bundle, a stylesheet: not a page
                html_pages += 1
                pieces = chinese_outside_case_data(response.get_data(as_text=True))
                if pieces:
                    found.setdefault(f"{url} as {user_id} ({response.status_code})", pieces[:8])
    # A tus upload's status is there only while an upload runs: its route is read as its (English) 404 page.
    not_opened = sorted(r.rule for r in rules if r.rule not in opened and r.endpoint != "uploads.status")
    assert not not_opened, f"no user could open these routes with the ids given: {not_opened}"
    assert html_pages > 100
    assert not found, "Chinese outside case data on English pages:\n" + "\n".join(
        f"{where}: {pieces}" for where, pieces in sorted(found.items()))


def test_the_form_error_banner_reads_in_english(model, both, svc, clock):
    evidence, _published = both
    [task] = list_tasks(svc, case=evidence.number)
    if task.assignee is None:
        claim_task(ClaimTask(task.id, "officer1"), svc=svc, clock=clock)
    client = _english_client(model, task.assignee or "officer1")
    response = post(client, f"/tasks/{task.id}", {"pin": PIN})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="alert alert-error"' in page
    assert chinese_outside_case_data(page) == []


def test_a_refused_legal_gate_reads_in_the_page_language(model, svc):
    """Art 51 refuses a 500 yuan fine on a citizen in the summary procedure: an English page gives the reason and
    the article in English, with the province's limit in it; a Chinese page cites the article as the law does."""
    citizen = {"respondent": {"name": "李四", "kind": "citizen", "address": "呈州市和平路9号"}}
    played = play_until(svc, scenario("summary_penalty", intake=citizen), "summary_penalty")
    [task] = [t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "summary_penalty"]
    form = {"violation_facts": "无健康证明从业", "legal_basis": "实施细则第三十八条", "penalty_warning": "on",
            "summary_fine": "500", "place": "现场", "summary_decided_at": "2026-09-15T10:00",
            "remedy": "六十日内申请复议", "pin": PIN}
    english = post(_english_client(model, "officer1"), f"/tasks/{task.id}", form)
    page = english.get_data(as_text=True)
    assert english.status_code == 422, page[:2000]
    assert "Article 51 of the Administrative Penalty Law of the PRC" in page
    assert "200 yuan for a citizen" in page  # the province's limit, worded into the English too
    assert chinese_outside_case_data(page) == []
    chinese = model.test_client()
    login(chinese, "officer1")
    refused = post(chinese, f"/tasks/{task.id}", form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "《中华人民共和国行政处罚法》第五十一条" in page and "公民200元" in page
    assert "Article 51" not in page
    assert list_tasks(svc, case=played.case.number) == [task]  # refused twice, nothing written
