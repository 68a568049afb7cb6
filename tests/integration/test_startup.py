"""What a process reads from its environment, it reads once, when its services are built (engine/startup.py)."""

from __future__ import annotations

from engine.startup import build_services
from tests.conftest import TEST_KDF_COST, TEST_PASSWORD_COST


def test_the_data_directory_is_resolved_once_when_the_services_are_built(tmp_path, monkeypatch):
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "first"))
    svc = build_services(f"sqlite:///{tmp_path / 'db.sqlite'}", upgrade=False, kdf_cost=TEST_KDF_COST, password_cost=TEST_PASSWORD_COST)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "second"))
    assert svc.data_dir == (tmp_path / "first").resolve()
    assert svc.font_cache_dir == (tmp_path / "first").resolve() / "cache" / "fonts"
    svc.engine.dispose()


def test_an_explicit_data_directory_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "env"))
    svc = build_services(f"sqlite:///{tmp_path / 'db.sqlite'}", upgrade=False, data_dir=tmp_path / "given", kdf_cost=TEST_KDF_COST,
                         password_cost=TEST_PASSWORD_COST)
    assert svc.font_cache_dir == tmp_path / "given" / "cache" / "fonts"
    svc.engine.dispose()
