"""The agency tree's admin pages (issue 16): administrators only, every form with its CSRF token, what is typed
shown escaped, refusals at their fields with nothing written; the user page puts a person in an agency; a
district's administrator sets its territory and lists its own people only."""

from __future__ import annotations

import pytest

from engine.agency_seals import seal_for
from engine.keystore import AGENCY_SEALS_DIR
from engine.usecases.agencies import agency_detail, list_agencies
from engine.usecases.users import add_user, list_users
from engine.values import AddUser
from signatures.pki import certificate_agency_code
from tests.web.webhelpers import PASSWORD, csrf_token, login, post, tags_out

HP = {"code": "cz-hp", "name": "呈州市和平区卫生健康局", "short": "和卫", "parent_code": "cz", "level": "county",
      "case_number_prefix": "和卫投", "penalty_number_prefix": "和卫罚", "review_agency": "", "court": "和平区人民法院"}


def test_an_admin_adds_a_district_and_sees_it_in_the_tree(model, client, svc):
    login(client, "admin")
    response = post(client, "/admin/agencies", HP, token_from="/admin/agencies")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/agencies/cz-hp")
    html = client.get("/admin/agencies").get_data(as_text=True)
    assert "呈州市和平区卫生健康局" in html and 'data-depth="1"' in html
    page = client.get("/admin/agencies/cz-hp").get_data(as_text=True)
    assert "和卫罚告" in page  # its 文号 prefixes
    assert "呈州市和平区人民政府" in page  # the 复议机关 derived from its name
    # Its own seal from the platform CA, so its 决定书 can be sealed (行政处罚法 第五十九条) without `ca seal`.
    seal = seal_for(svc, "cz-hp")
    assert certificate_agency_code(seal.certificate) == "cz-hp"
    assert "呈州市和平区卫生健康局" in seal.certificate.subject.rfc4514_string()


def test_a_setting_is_set_inherited_and_refused_with_its_article(model, client, svc):
    login(client, "admin")
    post(client, "/admin/agencies", HP, token_from="/admin/agencies")
    key = "thresholds.hearing_large_fine_citizen"
    ok = post(client, "/admin/agencies/cz/settings", {"key": key, "value": "3000"}, token_from="/admin/agencies/cz")
    assert ok.status_code == 302
    assert agency_detail(svc, "cz-hp").effective[key] == 3000
    refused = post(client, "/admin/agencies/cz-hp/settings", {"key": key, "value": "很多"},
                   token_from="/admin/agencies/cz-hp")
    assert refused.status_code == 422 and "第六十三条" in refused.get_data(as_text=True)
    assert agency_detail(svc, "cz-hp").settings == {}


def test_a_district_adopts_a_published_benchmark_and_an_unpublished_one_is_refused(model, client, svc):
    login(client, "admin")
    post(client, "/admin/agencies", HP, token_from="/admin/agencies")
    page = client.get("/admin/agencies/cz-hp").get_data(as_text=True)
    assert "cz-xs-2026" in page and "西山区" in page and "第三十四条" in page  # what it may adopt, and why
    key = "discretion.benchmark"
    ok = post(client, "/admin/agencies/cz-hp/settings", {"key": key, "value": "cz-xs-2026"},
              token_from="/admin/agencies/cz-hp")
    assert ok.status_code == 302 and agency_detail(svc, "cz-hp").effective[key] == "cz-xs-2026"
    refused = post(client, "/admin/agencies/cz/settings", {"key": key, "value": "cz-2099"},
                   token_from="/admin/agencies/cz")
    assert refused.status_code == 422 and "第三十四条" in refused.get_data(as_text=True)
    assert agency_detail(svc, "cz").settings == {}


def test_refusals_are_shown_at_their_fields_escaped_and_nothing_is_written(model, client, svc):
    login(client, "admin")
    bad = {**HP, "code": "Bad Code", "name": "<script>alert(1)</script>", "level": "city"}
    response = post(client, "/admin/agencies", bad, token_from="/admin/agencies")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "机构代码须为" in html
    clash = post(client, "/admin/agencies", {**HP, "case_number_prefix": "呈卫投"}, token_from="/admin/agencies")
    assert clash.status_code == 409
    assert [a.code for a in list_agencies(svc)] == ["cz"]
    edited = post(client, "/admin/agencies/cz", {"name": "<b>新名</b>", "short": "呈卫", "case_number_prefix": "呈卫投",
                                                "penalty_number_prefix": "呈卫罚", "review_agency": "呈州市人民政府",
                                                "court": "呈州市和平区人民法院"}, token_from="/admin/agencies/cz")
    assert edited.status_code == 302
    assert "&lt;b&gt;新名&lt;/b&gt;" in client.get("/admin/agencies").get_data(as_text=True)
    assert client.get("/admin/agencies/nowhere").status_code == 404


def test_an_agency_whose_seal_cannot_be_written_is_not_added(model, client, svc):
    """The page's add is the engine's one transaction: the seal's key first, then the agency with its certificate."""
    seals = svc.agency_keys.directory / AGENCY_SEALS_DIR
    assert not seals.exists()
    seals.write_text("")  # where the seals' directory goes, a file: the key cannot be written
    login(client, "admin")
    response = post(client, "/admin/agencies", HP, token_from="/admin/agencies")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "无法写入机构 cz-hp 的印章密钥" in html and 'value="cz-hp"' in html
    assert [a.code for a in list_agencies(svc)] == ["cz"] and seals.read_text() == ""


@pytest.mark.parametrize("user", ["head", "officer1", "auditor"])
def test_only_administrators_reach_the_agency_pages(model, client, user):
    login(client, user)
    assert client.get("/admin/agencies").status_code == 403
    assert client.get("/admin/agencies/cz").status_code == 403
    assert post(client, "/admin/agencies", HP).status_code == 403


def test_a_form_without_its_csrf_token_is_refused(model, client, svc):
    login(client, "admin")
    assert client.post("/admin/agencies", data=HP).status_code == 400
    assert [a.code for a in list_agencies(svc)] == ["cz"]


def test_the_user_page_puts_a_new_person_in_the_chosen_agency(model, client, svc):
    login(client, "admin")
    post(client, "/admin/agencies", HP, token_from="/admin/agencies")
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<option value="cz-hp"' in page
    added = post(client, "/admin/users", {"user_id": "hp.officer", "name": "杨承办", "password": "a-long-password",
                                         "roles": ["officer"], "agency_code": "cz-hp"}, token_from="/admin/users")
    assert added.status_code == 302
    assert next(u for u in list_users(svc) if u.id == "hp.officer").agency_code == "cz-hp"
    refused = post(client, "/admin/users", {"user_id": "xx.officer", "name": "某", "password": "a-long-password",
                                           "roles": ["officer"], "agency_code": "nowhere"}, token_from="/admin/users")
    assert refused.status_code == 422 and "nowhere" in refused.get_data(as_text=True)


def test_an_admin_moves_a_person_to_another_agency_saying_why(model, client, svc):
    login(client, "admin")
    post(client, "/admin/agencies", HP, token_from="/admin/agencies")
    no_reason = post(client, "/admin/users/officer1/agency", {"agency_code": "cz-hp", "reason": ""},
                     token_from="/admin/users/officer1")
    assert no_reason.status_code == 422
    assert next(u for u in list_users(svc) if u.id == "officer1").agency_code == "cz"
    moved = post(client, "/admin/users/officer1/agency", {"agency_code": "cz-hp", "reason": "轮岗"},
                 token_from="/admin/users/officer1")
    assert moved.status_code == 302
    page = client.get("/admin/users/officer1").get_data(as_text=True)
    assert "调整所属机构" in page and "轮岗" in page  # journalled in the account's history
    assert next(u for u in list_users(svc) if u.id == "officer1").agency_code == "cz-hp"


XS = {**HP, "code": "cz-xs", "name": "呈州市西山区卫生健康局", "short": "西卫", "case_number_prefix": "西卫投",
      "penalty_number_prefix": "西卫罚", "court": "西山区人民法院"}


def _district_admins(client, svc, clock) -> None:
    """和平区 and 西山区 added by the platform's administrator, each with an administrator and an officer of its own."""
    login(client, "admin")
    for agency in (HP, XS):
        assert post(client, "/admin/agencies", agency, token_from="/admin/agencies").status_code == 302
    for user_id, roles, agency in (("hp.admin", ["admin"], "cz-hp"), ("xs.admin", ["admin"], "cz-xs"),
                                   ("hp.officer", ["officer"], "cz-hp"), ("xs.officer", ["officer"], "cz-xs")):
        add_user(AddUser(user_id=user_id, name=f"{user_id}名", password=PASSWORD, roles=roles, agency_code=agency),
                 svc=svc, clock=clock)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})


def test_a_district_admin_sets_its_territory_on_its_page_escaped_and_with_csrf(model, client, svc, clock):
    _district_admins(client, svc, clock)
    login(client, "hp.admin")
    page = client.get("/admin/agencies/cz-hp").get_data(as_text=True)
    assert 'id="agency-areas"' in page and "辖区" in page
    assert client.post("/admin/agencies/cz-hp/areas", data={"areas": "和平区"}).status_code == 400  # no CSRF token
    done = post(client, "/admin/agencies/cz-hp/areas", {"areas": "和平区\r\n东山街道、<b>南湖</b>"},
                token_from="/admin/agencies/cz-hp")
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/agencies/cz-hp")
    assert agency_detail(svc, "cz-hp").areas == ("和平区", "东山街道", "<b>南湖</b>")  # one a line, 、 parts them too
    page = client.get("/admin/agencies/cz-hp").get_data(as_text=True)
    assert "<b>南湖</b>" not in page and "&lt;b&gt;南湖&lt;/b&gt;" in page
    # 西山区 is not theirs: refused on the page, nothing written
    refused = post(client, "/admin/agencies/cz-xs/areas", {"areas": "西山区"}, token_from="/admin/agencies/cz-hp")
    assert refused.status_code == 403 and agency_detail(svc, "cz-xs").areas == ()
    long = post(client, "/admin/agencies/cz-hp/areas", {"areas": "和" * 51}, token_from="/admin/agencies/cz-hp")
    html = long.get_data(as_text=True)
    assert long.status_code == 422 and "50" in html and "field-error" in html
    assert agency_detail(svc, "cz-hp").areas == ("和平区", "东山街道", "<b>南湖</b>")


def test_a_neighbours_place_is_refused_on_the_page(model, client, svc, clock):
    _district_admins(client, svc, clock)
    login(client, "admin")
    post(client, "/admin/agencies/cz-xs/areas", {"areas": "西山区"}, token_from="/admin/agencies/cz-xs")
    clash = post(client, "/admin/agencies/cz-hp/areas", {"areas": "西山区"}, token_from="/admin/agencies/cz-hp")
    assert clash.status_code == 409 and "cz-xs" in clash.get_data(as_text=True)
    assert agency_detail(svc, "cz-hp").areas == () and agency_detail(svc, "cz-xs").areas == ("西山区",)


def test_a_district_admin_sees_only_the_people_of_their_district(model, client, svc, clock):
    _district_admins(client, svc, clock)
    login(client, "hp.admin")
    page = tags_out(client.get("/admin/users").get_data(as_text=True))
    assert "hp.officer" in page and "hp.admin" in page
    assert "xs.officer" not in page and "xs.admin" not in page and "王承办" not in page  # 西山区's, the city's
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    login(client, "admin")  # the platform's administrator: everyone
    page = tags_out(client.get("/admin/users").get_data(as_text=True))
    assert all(uid in page for uid in ("hp.officer", "xs.officer", "xs.admin", "officer1"))
