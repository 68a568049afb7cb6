"""A backup restores the platform's agency tree (issue 16): the migration's home row is replaced by the backup's,
and every agency is inserted after the one above it — whatever order the backup lists them in (a parent's code
may sort after its child's), on PostgreSQL where each row's foreign key is checked as it is inserted."""

from __future__ import annotations

from sqlalchemy import select

from engine.agencies import ancestors, subtree_codes
from engine.db.tables import AgencyRow, UserRow
from engine.usecases.agencies import add_agency, set_agency_setting
from engine.usecases.backup import make_backup
from engine.usecases.users import add_user
from engine.values import AddAgency, AddUser, SetAgencySetting, fixed_clock
from tests.integration.conftest import SETUP_TIME
from tests.integration.test_backup import LATER, _restored, empty_target  # noqa: F401 (the fixture)

CLOCK = fixed_clock(SETUP_TIME)


def _tree(svc) -> list[tuple]:
    with svc.uow.read() as session:
        return [(r.code, r.parent_code, r.level, r.name, r.case_number_prefix, r.settings, r.active)
                for r in session.scalars(select(AgencyRow).order_by(AgencyRow.code))]


def test_a_three_level_tree_restores_parents_first(ready_svc, empty_target, tmp_path):  # noqa: F811
    svc = ready_svc
    # 呈州市 (cz) → 西山区 (zz-xs, sorting after its child) → 西山区南关所 (aa-ng)
    add_agency(AddAgency(code="zz-xs", name="呈州市西山区卫生健康局", short="西卫", parent_code="cz", level="county",
                         case_number_prefix="西卫投", penalty_number_prefix="西卫罚", by="admin"), svc=svc, clock=CLOCK)
    add_agency(AddAgency(code="aa-ng", name="西山区南关卫生监督所", short="西南卫", parent_code="zz-xs", level="station",
                         case_number_prefix="西南卫投", penalty_number_prefix="西南卫罚", by="admin"), svc=svc, clock=CLOCK)
    set_agency_setting(SetAgencySetting(code="zz-xs", key="thresholds.hearing_large_fine_citizen", value="3000",
                                        by="admin"), svc=svc, clock=CLOCK)
    add_user(AddUser(user_id="ng.officer", name="南关承办", password="a-long-pass-phrase-2026", roles=["officer"],
                     agency_code="aa-ng"), svc=svc, clock=CLOCK)
    before = _tree(svc)
    make_backup(svc, tmp_path / "backup", clock=fixed_clock(LATER))
    url, data_dir = empty_target
    restored = _restored(svc, tmp_path / "backup", url, data_dir)
    try:
        assert _tree(restored) == before
        with restored.uow.read() as session:
            assert subtree_codes(session, "cz") == ["cz", "zz-xs", "aa-ng"]
            assert [a.code for a in ancestors(session, "aa-ng")] == ["cz", "zz-xs"]
            assert session.get(UserRow, "ng.officer").agency_code == "aa-ng"
    finally:
        restored.engine.dispose()
