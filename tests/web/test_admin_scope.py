"""The admin pages of a district's administrator (issue 16): their district's people and the district itself, never
the neighbouring district's — opened by URL or posted to, another district's person or agency is refused (403, the
engine's reason in zh-CN and English, nothing written), and the pickers offer only the agencies they administer.
The platform's administrator (of the root agency) manages every district."""

from __future__ import annotations

import pytest

from engine.usecases.agencies import add_agency
from engine.usecases.users import add_user
from engine.values import AddAgency, AddUser
from tests.agencies import admin_state
from tests.web.webhelpers import PASSWORD, PIN, csrf_token, login, post, tags_out

OWN, SIBLING = "cz-hp", "cz-xs"  # 和平区, whose administrator acts; 西山区, its sibling under the city
PERSON = {OWN: "hp.officer", SIBLING: "xs.officer"}
UNIT = {OWN: "cz-hp-dz", SIBLING: "cz-xs-dz"}  # a station below each district, without people


@pytest.fixture
def districts(model, svc, clock):
    """Two districts under the city, each with an administrator, an officer with a signing key and a station."""
    for code, short in ((OWN, "和卫"), (SIBLING, "西卫")):
        add_agency(AddAgency(code=code, name=f"{short}局", short=short, parent_code="cz", level="county",
                             case_number_prefix=f"{short}投", penalty_number_prefix=f"{short}罚", by="admin"),
                   svc=svc, clock=clock)
        station = f"{short}东"
        add_agency(AddAgency(code=UNIT[code], name=f"{station}所", short=station, parent_code=code, level="station",
                             case_number_prefix=f"{station}投", penalty_number_prefix=f"{station}罚", by="admin"),
                   svc=svc, clock=clock)
    for user_id, roles, agency, pin in (("hp.admin", ["admin"], OWN, None), ("xs.admin", ["admin"], SIBLING, None),
                                        (PERSON[OWN], ["officer"], OWN, PIN), (PERSON[SIBLING], ["officer"], SIBLING, PIN)):
        add_user(AddUser(user_id=user_id, name=f"{user_id}名", password=PASSWORD, roles=roles, agency_code=agency,
                         pin=pin), svc=svc, clock=clock)
    return svc


def _user_posts(agency: str) -> list[tuple[str, dict[str, str]]]:
    """Every form of the user page of `agency`'s person."""
    user = f"/admin/users/{PERSON[agency]}"
    return [
        (f"{user}/enforcement-certificate", {"cert_no": "呈卫执0099", "cert_valid_until": "2031-12-31", "reason": "换证"}),
        (f"{user}/agency", {"agency_code": UNIT[agency], "reason": "轮岗"}),
        (f"{user}/end-sessions", {"reason": "电脑遗失"}),
        (f"{user}/revoke", {"reason": "PIN 泄露"}),
        (f"{user}/rekey", {"pin": "654321", "pin_again": "654321", "reason": "更换设备"}),
        (f"{user}/active", {"active": "0", "reason": "调离"}),
    ]


def _agency_posts(agency: str) -> list[tuple[str, dict[str, str]]]:
    """Every form of `agency`'s page, and a station added below it."""
    page = f"/admin/agencies/{agency}"
    return [
        (page, {"name": f"{agency}局（新）", "short": "新" + agency[-2:], "case_number_prefix": f"新{agency}投",
                "penalty_number_prefix": f"新{agency}罚", "review_agency": "", "court": "某人民法院"}),
        (f"{page}/settings", {"key": "thresholds.hearing_large_fine_citizen", "value": "4000"}),
        (f"{page}/areas", {"areas": f"{agency}街道"}),
        (f"/admin/agencies/{UNIT[agency]}/deactivate", {"reason": "机构撤并"}),
        ("/admin/agencies", {"code": f"{agency}-nz", "name": f"{agency}南站", "short": f"{agency}南",
                             "parent_code": agency, "level": "station", "case_number_prefix": f"{agency}南投",
                             "penalty_number_prefix": f"{agency}南罚", "review_agency": "", "court": ""}),
    ]


def _new_person(agency: str) -> dict[str, object]:
    return {"user_id": f"new.{agency[-2:]}", "name": "新同事", "password": "a-long-password-2026",
            "roles": ["officer"], "agency_code": agency}


def test_a_district_admin_is_refused_the_sibling_districts_people_and_agency(districts, client):
    svc = districts
    login(client, "hp.admin")
    before = admin_state(svc)
    for path in (f"/admin/users/{PERSON[SIBLING]}", f"/admin/agencies/{SIBLING}", f"/admin/agencies/{UNIT[SIBLING]}",
                 "/admin/users/officer1", "/admin/agencies/cz"):  # the neighbour's, and the city's above them
        response = client.get(path)
        assert response.status_code == 403, path
        assert "系统管理员" in response.get_data(as_text=True), path  # the engine's reason, in the page's language
    posts = [*_user_posts(SIBLING), *_agency_posts(SIBLING), ("/admin/users", _new_person(SIBLING)),
             (f"/admin/users/{PERSON[SIBLING]}/unblock-pin", {"reason": "核实", "back": "user"})]
    for path, data in posts:
        response = post(client, path, data, token_from="/admin/users")
        assert response.status_code == 403, (path, response.status_code)
        assert SIBLING in response.get_data(as_text=True), path  # the reason names the agency
    # their own person sent to the neighbour: refused too
    moved = post(client, f"/admin/users/{PERSON[OWN]}/agency", {"agency_code": SIBLING, "reason": "轮岗"},
                 token_from="/admin/users")
    assert moved.status_code == 403
    assert admin_state(svc) == before


@pytest.mark.parametrize(("admin", "agency"), [("hp.admin", OWN),  # a district's administrator: their own
                                               ("admin", SIBLING)])  # the platform's: any district
def test_an_admin_manages_the_district_they_administer_on_every_form(districts, client, admin, agency):
    svc = districts
    login(client, admin)
    assert client.get(f"/admin/users/{PERSON[agency]}").status_code == 200
    assert client.get(f"/admin/agencies/{agency}").status_code == 200
    for path, data in [*_user_posts(agency), *_agency_posts(agency), ("/admin/users", _new_person(agency))]:
        before = admin_state(svc)
        response = post(client, path, data, token_from="/admin/users")
        assert response.status_code == 302, (path, response.get_data(as_text=True)[:800])
        assert admin_state(svc) != before, path


def test_the_pickers_and_the_tree_offer_only_the_agencies_the_admin_administers(districts, client):
    login(client, "hp.admin")
    users = client.get("/admin/users").get_data(as_text=True)
    assert f'<option value="{OWN}"' in users and f'<option value="{UNIT[OWN]}"' in users
    assert f'<option value="{SIBLING}"' not in users and '<option value="cz"' not in users
    person = client.get(f"/admin/users/{PERSON[OWN]}").get_data(as_text=True)
    assert f'<option value="{UNIT[OWN]}"' in person and f'<option value="{SIBLING}"' not in person
    tree = tags_out(client.get("/admin/agencies").get_data(as_text=True))
    assert OWN in tree and UNIT[OWN] in tree and SIBLING not in tree
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    login(client, "admin")
    users = client.get("/admin/users").get_data(as_text=True)
    assert all(f'<option value="{code}"' in users for code in ("cz", OWN, SIBLING, UNIT[SIBLING]))
