"""Migration 0021: an evidence file says what it is for — evidence, or the party's signature drawn on a 笔录."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from engine.db.evidence_tables import EvidenceFileRow
from engine.db.session import migrate
from engine.db.tables import Base
from engine.enums import FilePurpose
from engine.services import Services
from engine.usecases.evidence import list_evidence
from tests.integration.alembic_steps import run_alembic

SIGNATURES = {"被检查人签名.png", "被询问人签名.png"}  # drawn at 现场检查 and 询问



def test_the_migrated_schema_matches_the_evidence_table(svc: Services) -> None:
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if "evidence_files" in repr(d)] == []


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_a_drawn_signature_is_marked_as_one_when_stored(ready_svc, played) -> None:
    signatures = list_evidence(ready_svc, played.number, None, purpose=FilePurpose.PARTY_SIGNATURE)
    assert {f.name for f in signatures} == SIGNATURES
    assert all(f.state == "attached" and f.media_type == "image/png" for f in signatures)
    assert list_evidence(ready_svc, played.number, None) == ()  # the scenario took no evidence files
    assert list_evidence(ready_svc, played.number, None, purpose=None) == signatures


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_the_rows_survive_a_down_and_up_and_a_waiting_signature_is_marked(ready_svc, played) -> None:
    """Down to 0020 and up again on a populated database: no row lost (plain ADD/DROP COLUMN, nothing rebuilt);
    a drawn image still waiting for its step is marked a signature; a previous release's insert is evidence."""
    with ready_svc.uow.read() as session:
        before = session.execute(select(EvidenceFileRow.id, EvidenceFileRow.sha256, EvidenceFileRow.state)
                                 .order_by(EvidenceFileRow.id)).all()
    [waiting, *_] = [row.id for row in before if row.state == "attached"]
    run_alembic(ready_svc, "downgrade", "0020")
    with ready_svc.engine.begin() as conn:
        assert "purpose" not in {c["name"] for c in inspect(conn).get_columns("evidence_files")}
        # As the release before 0021 left one: a drawn image stored for a step not signed yet.
        conn.execute(text("UPDATE evidence_files SET state = 'drawn', seq = NULL WHERE id = :id"), {"id": waiting})
    migrate(ready_svc.engine)
    with ready_svc.uow.read() as session:
        after = session.execute(select(EvidenceFileRow.id, EvidenceFileRow.sha256, EvidenceFileRow.purpose)
                                .order_by(EvidenceFileRow.id)).all()
    assert [(r.id, r.sha256) for r in after] == [(r.id, r.sha256) for r in before] and len(after) == 2
    assert {r.id: r.purpose for r in after if r.purpose != "evidence"} == {waiting: "party_signature"}
    with ready_svc.engine.begin() as conn:  # the previous release's INSERT names no purpose
        conn.execute(text("INSERT INTO evidence_files (case_id, task_id, sha256, size, media_type, name, added_by, "
                          "added_at, state) SELECT case_id, task_id, sha256, size, media_type, 'old.png', added_by, "
                          "added_at, 'staged' FROM evidence_files WHERE id = :id"), {"id": waiting})
    with ready_svc.uow.read() as session:
        assert session.scalar(select(EvidenceFileRow.purpose).where(EvidenceFileRow.name == "old.png")) == "evidence"
