"""Taking back a staged evidence file (the upload widget's "remove"): the person who added it removes it before
any signed step has listed it; its bytes go too unless another row names them. An attached file is part of a
signed record and is never removed.
"""

from __future__ import annotations

from engine.db.evidence_tables import STAGED, EvidenceFileRow
from engine.db.repositories import Users
from engine.errors import Conflict, NotFound
from engine.services import Services
from engine.usecases.evidence import forget_blob
from engine.values import MAX_ID, Clock, DiscardEvidence


def discard_evidence(cmd: DiscardEvidence, *, svc: Services, clock: Clock) -> str:
    """Remove the staged file `cmd.file_id` of `cmd.user_id`, in one transaction; its name. NotFound for a file
    that is not theirs (as for one that does not exist), Conflict once a signed step has taken it."""
    del clock  # nothing is dated: the row goes
    missing = f"证据文件不存在 (no such evidence file): {cmd.file_id}"
    with svc.uow() as work:
        Users(work.session).active(cmd.user_id)
        row = work.session.get(EvidenceFileRow, cmd.file_id, with_for_update=True) \
            if 0 < cmd.file_id <= MAX_ID else None
        if row is None or row.added_by != cmd.user_id:
            raise NotFound(missing)
        if row.state != STAGED:
            raise Conflict(f"该文件已列入签名记录，不能移除 (the file is listed in a signed record and cannot be "
                           f"removed): {row.name}")
        name, sha256 = row.name, row.sha256
        work.session.delete(row)
        work.commit()
    forget_blob(svc, sha256)
    return name


__all__ = ["discard_evidence"]
