"""The case's 文书 on its page: listed with hash and check code, downloaded byte for byte, the complainant's
papers and the dossier only for those who may see the complainant."""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from urllib.parse import unquote

import pytest

from engine.usecases.documents import list_documents
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import penalty_case_until
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import login

LINK = re.compile(r'href="(/cases/\d+/documents/(\d+))"')
IDENTITY_KINDS = ("complaint_registration", "complaint_result_notice")


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, filed=penalty_case_until("investigation_report"))


@pytest.fixture
def filed(model, template_result):
    """A case played past 立案 and the feedback to the complainant, up to the investigation report."""
    return template_result


def _doc(svc, case_id: int, kind: str):
    return next(d for d in list_documents(svc, case_id) if d.kind == kind)


def test_the_case_page_lists_every_document_with_number_signer_hash_and_check_code(filed, client, svc):
    login(client, "officer1")
    page = htmllib.unescape(client.get(f"/cases/{filed.case.id}").get_data(as_text=True))
    docs = list_documents(svc, filed.case.id)
    assert {d.kind for d in docs} >= {"complaint_registration", "case_acceptance", "case_filing_report",
                                      "complaint_result_notice"}
    for doc in docs:
        assert doc.title in page
        assert doc.sha256[:12] in page
        assert doc.verification_code in page
        assert f"/cases/{filed.case.id}/documents/{doc.id}" in page
    assert "王承办" in page  # who signed, by name


def test_each_download_is_the_signed_pdf_whose_sha256_the_page_lists(filed, client, svc):
    login(client, "head")
    page = client.get(f"/cases/{filed.case.id}").get_data(as_text=True)
    links = LINK.findall(page)
    listed = {d.id: d for d in list_documents(svc, filed.case.id)}
    assert {int(doc_id) for _, doc_id in links} == set(listed)
    for href, doc_id in links:
        response = client.get(href)
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        body = response.get_data()
        assert body.startswith(b"%PDF")
        sha = hashlib.sha256(body).hexdigest()
        assert sha == listed[int(doc_id)].sha256
        assert sha[:12] in page


def test_the_download_is_an_attachment_named_in_utf8(filed, client, svc):
    doc = _doc(svc, filed.case.id, "case_filing_report")
    login(client, "officer1")
    disposition = client.get(f"/cases/{filed.case.id}/documents/{doc.id}").headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="document-{doc.id}.pdf"' in disposition  # the ASCII fallback
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert encoded is not None
    assert unquote(encoded.group(1)) == doc.file_name
    assert "立案报告" in unquote(encoded.group(1))


# Who reads the case without seeing the complainant: the auditor, and a head with no part in it (supervision).
# The panel, the legal reviewer and the publisher have no part in it yet: they read nothing of it.
READERS = ["auditor", "head2"]
OUTSIDERS = ["panel1", "legal", "publisher", "officer3"]


@pytest.mark.parametrize("user", READERS)
def test_papers_naming_the_complainant_are_refused_to_roles_that_may_not_see_them(filed, client, svc, user):
    login(client, user)
    page = client.get(f"/cases/{filed.case.id}").get_data(as_text=True)
    assert "仅受理、承办人员和负责人可下载" in page
    for kind in IDENTITY_KINDS:
        doc = _doc(svc, filed.case.id, kind)
        refused = client.get(f"/cases/{filed.case.id}/documents/{doc.id}")
        assert refused.status_code == 403, kind
        assert "此文书载有投诉举报人身份" in refused.get_data(as_text=True), kind  # says why, in the page's language
        assert f"/documents/{doc.id}\"" not in page, kind  # listed, without a link
        assert doc.title in page


@pytest.mark.parametrize("user", OUTSIDERS)
def test_those_with_no_part_in_the_case_download_none_of_its_papers(filed, client, svc, user):
    login(client, user)
    assert client.get(f"/cases/{filed.case.id}").status_code == 403
    for doc in list_documents(svc, filed.case.id):
        refused = client.get(f"/cases/{filed.case.id}/documents/{doc.id}")
        assert refused.status_code == 403 and "未参与本案" in refused.get_data(as_text=True), doc.kind
    assert client.get(f"/cases/{filed.case.id}/dossier.pdf").status_code == 403


@pytest.mark.parametrize("user", READERS)
def test_other_papers_are_open_to_every_role_that_may_see_the_case(filed, client, svc, user):
    doc = _doc(svc, filed.case.id, "case_filing_report")
    login(client, user)
    response = client.get(f"/cases/{filed.case.id}/documents/{doc.id}")
    assert response.status_code == 200
    assert hashlib.sha256(response.get_data()).hexdigest() == doc.sha256


@pytest.mark.parametrize("user", ["clerk", "officer1", "head"])
def test_papers_naming_the_complainant_are_open_to_intake_officers_and_heads(filed, client, svc, user):
    doc = _doc(svc, filed.case.id, "complaint_registration")
    login(client, user)
    response = client.get(f"/cases/{filed.case.id}/documents/{doc.id}")
    assert response.status_code == 200
    assert hashlib.sha256(response.get_data()).hexdigest() == doc.sha256


def test_the_administrator_may_not_download_case_documents(filed, client, svc):
    doc = _doc(svc, filed.case.id, "case_filing_report")
    login(client, "admin")
    assert client.get(f"/cases/{filed.case.id}/documents/{doc.id}").status_code == 403


def test_another_cases_document_is_not_found_under_this_case(filed, client, svc):
    other = play_until(svc, scenario(), "preliminary_check")
    theirs = _doc(svc, other.case.id, "case_acceptance")
    login(client, "head")
    assert client.get(f"/cases/{filed.case.id}/documents/{theirs.id}").status_code == 404
    assert client.get(f"/cases/{other.case.id}/documents/{theirs.id}").status_code == 200
    assert client.get(f"/cases/{filed.case.id}/documents/999999").status_code == 404


def test_the_dossier_is_a_pdf_for_officers_and_refused_to_readers_without_the_complainant(filed, client):
    login(client, "officer1")
    page = client.get(f"/cases/{filed.case.id}").get_data(as_text=True)
    assert f"/cases/{filed.case.id}/dossier.pdf" in page
    response = client.get(f"/cases/{filed.case.id}/dossier.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "%E6%A1%88%E5%8D%B7" in disposition  # 案卷, percent-encoded UTF-8
    login(client, "head2")  # a head with no part in the case reads it, without the complainant's papers
    refused = client.get(f"/cases/{filed.case.id}/dossier.pdf?lang=en")  # the English half of the reason
    assert refused.status_code == 403 and "the dossier holds documents naming the complainant" in refused.get_data(as_text=True)
    assert "dossier.pdf" not in client.get(f"/cases/{filed.case.id}").get_data(as_text=True)
    login(client, "legal")  # no part in it at all
    assert client.get(f"/cases/{filed.case.id}/dossier.pdf").status_code == 403
