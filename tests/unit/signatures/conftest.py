"""Fixtures for the signatures tests (helpers live in sigcase.py)."""

from __future__ import annotations

import pytest

from tests.unit.signatures.sigcase import Agency, Case


@pytest.fixture(scope="module")
def agency() -> Agency:
    return Agency()


@pytest.fixture
def fresh_agency() -> Agency:
    return Agency()


@pytest.fixture(scope="module")
def case(agency: Agency) -> Case:
    return agency.build_case()
