"""Administration: users and roles, process definitions, settings (read-only), working-day overrides."""

from __future__ import annotations

import datetime as dt
import io
import pathlib

from engine.usecases.users import list_users
from tests.web.webhelpers import csrf_token, login, post

WORKFLOWS = pathlib.Path(__file__).resolve().parents[2] / "workflows"


def test_an_admin_adds_a_user_who_can_then_log_in(model, client, svc):
    login(client, "admin")
    response = post(client, "/admin/users", {"user_id": "officer9", "name": "钱承办", "password": "a-long-password",
                                            "pin": "246810", "roles": ["officer", "panel"], "unit": "医疗科"},
                    token_from="/admin/users")
    assert response.status_code == 302
    assert "钱承办" in client.get("/admin/users").get_data(as_text=True)
    assert {"officer", "panel"} == set(next(u for u in list_users(svc) if u.id == "officer9").roles)
    other = client.application.test_client()
    login(other, "officer9", "a-long-password")


def test_invalid_user_data_is_shown_at_its_fields(model, client):
    login(client, "admin")
    response = post(client, "/admin/users", {"user_id": "Bad Name", "name": "某人", "password": "short", "pin": "1"},
                    token_from="/admin/users")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "密码至少 10 位" in html
    assert "签名PIN码至少" in html
    assert "未知角色" in html
    assert 'value="某人"' in html


def test_a_common_password_is_refused_for_a_new_user(model, client, svc):
    login(client, "admin")
    response = post(client, "/admin/users", {"user_id": "officer9", "name": "钱承办", "password": "qwertyuiop",
                                            "roles": ["officer"]}, token_from="/admin/users")
    assert response.status_code == 422
    assert "密码过于常见或容易猜到" in response.get_data(as_text=True)
    assert "officer9" not in {u.id for u in list_users(svc)}


def test_an_existing_user_id_is_a_conflict(model, client):
    login(client, "admin")
    response = post(client, "/admin/users", {"user_id": "officer1", "name": "重名", "password": "a-long-password",
                                            "roles": ["officer"]}, token_from="/admin/users")
    assert response.status_code == 409
    assert "用户已存在" in response.get_data(as_text=True)


def _upload(client, files, entry="case_procedure"):
    token = csrf_token(client, "/admin/definitions")
    data = {"csrf_token": token, "entry_process_id": entry, "name": "测试版本",
            "files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return client.post("/admin/definitions", data=data, content_type="multipart/form-data")


def test_an_invalid_process_definition_is_refused_with_its_location(model, client):
    login(client, "admin")
    response = _upload(client, {"broken.bpmn": b"<definitions><process id='x'></definitions"}, entry="x")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "流程定义校验失败" in html


def test_uploading_the_stored_model_again_changes_nothing(model, client):
    login(client, "admin")
    files = {p.name: p.read_bytes() for p in WORKFLOWS.iterdir()
             if p.suffix in (".bpmn", ".dmn") or p.name in ("gates.json", "roles.json")}
    files.update({p.name: p.read_bytes() for p in (WORKFLOWS / "forms").glob("*.schema.json")})  # as a picker sends them
    response = _upload(client, files)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert "与已有版本相同" in html


def test_a_changed_model_is_stored_as_a_new_version(model, client):
    login(client, "admin")
    files = {p.name: p.read_bytes() for p in WORKFLOWS.iterdir()
             if p.suffix in (".bpmn", ".dmn") or p.name in ("gates.json", "roles.json")}
    files.update({p.name: p.read_bytes() for p in (WORKFLOWS / "forms").glob("*.schema.json")})
    files["case_procedure.bpmn"] = files["case_procedure.bpmn"].replace("受理审查".encode(), "受理审查（新版）".encode(), 1)
    response = _upload(client, files)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert "已保存新版本" in html


def test_a_file_of_another_kind_is_refused(model, client):
    login(client, "admin")
    response = _upload(client, {"evil.exe": b"MZ"})
    assert response.status_code == 422
    assert "evil.exe" in response.get_data(as_text=True)


def test_the_settings_page_shows_time_limits_with_their_legal_basis(model, client):
    login(client, "head")
    html = client.get("/admin/settings").get_data(as_text=True)
    assert "decision_deadline" in html
    assert "第六十条" in html
    assert "90" in html


def test_a_working_day_override_changes_the_calendar(model, client, svc):
    login(client, "admin")
    day = dt.date(2027, 2, 8)
    response = post(client, "/admin/calendar", {"day": day.isoformat(), "kind": "off", "reason": "春节调休"},
                    token_from="/admin/calendar")
    assert response.status_code == 302
    assert svc.calendar.is_workday(day) is False
    assert "2027-02-08" in client.get("/admin/calendar").get_data(as_text=True)
    post(client, "/admin/calendar", {"day": day.isoformat(), "kind": "remove", "reason": "通知撤回"},
         token_from="/admin/calendar")
    assert svc.calendar.is_workday(day) is True
    assert post(client, "/admin/calendar", {"day": "not-a-date", "reason": "x"},
                token_from="/admin/calendar").status_code == 422


def test_a_broken_model_file_is_reported_with_its_file_and_line(model, client):
    import re

    login(client, "admin")
    files = {p.name: p.read_bytes() for p in WORKFLOWS.iterdir()
             if p.suffix in (".bpmn", ".dmn") or p.name in ("gates.json", "roles.json")}
    files.update({p.name: p.read_bytes() for p in (WORKFLOWS / "forms").glob("*.schema.json")})
    files["case_procedure.bpmn"] = files["case_procedure.bpmn"][:5000]
    response = _upload(client, files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r"case_procedure\.bpmn:\d+", html)
