"""A signed step written optimistically: prepared without a lock, written under it, prepared again if overtaken.

The slow part of a signed step — the signer's key (scrypt), the model, the 文书 rendered and PAdES-signed, the
record signed — is prepared in a read-only transaction that holds no lock (on SQLite no writer waits for it; on
PostgreSQL no row is locked). The write then takes the lock and checks that nothing the preparation read has
moved — the case's version, its record chain, the 文号 or case number printed — and writes everything in one
transaction, or nothing (`MOVED`): the step is then prepared again from the new state.

At a busy desk (six officers signing numbered notices at once, six clerks registering) a try can be overtaken
every time. So the last try cannot be: it prepares inside its write transaction, holding the case's row and the
next number from before it reads until it commits (on SQLite: the database's write lock). The others wait the few
hundred milliseconds of one preparation instead of someone being told "try again".

Used by completing a task (completion.py), registering a complaint (cases.py) and flagging a case for
supervision (supervision.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from engine.db.session import Work
from engine.errors import Conflict
from engine.journal import RecordsMoved
from engine.numbering import NumberTaken
from engine.services import Services
from signatures.keys import KeySigner

# How often a step is prepared (the last time held) when other writers moved what it read meanwhile.
ATTEMPTS = 4


class StepMoved(Conflict):
    """What the preparation read changed before the write (nothing was written): prepare again."""


#: What a write raises when it was overtaken: nothing is written, and the step is prepared again.
MOVED = (StepMoved, NumberTaken, RecordsMoved)


class Prepared(Protocol):
    @property
    def signer(self) -> KeySigner: ...


P = TypeVar("P", bound=Prepared)
P_co = TypeVar("P_co", bound=Prepared, covariant=True)
T = TypeVar("T")


class Prepare(Protocol[P_co]):
    def __call__(self, session: Session, *, signer: KeySigner | None, held: bool) -> P_co:
        """Everything slow about the step, from the state as `session` reads it. `signer`: the key an earlier
        try unlocked (None: unlock it). `held`: `session` is the write transaction's — lock what is read (the
        case's row first, then the number: the order every writer takes them) and hold the number, not peek it."""
        ...


def optimistic(svc: Services, prepare: Prepare[P], write: Callable[[Work, P], T], *, refusal: str,
               attempts: int = ATTEMPTS) -> T:
    """Prepare and write a step, preparing again each time it was overtaken; the last try holds what it reads.
    `write(work, prepared)`: the step's rows, or one of MOVED if what it was prepared from moved (nothing
    written); committed here.
    `refusal`: the Conflict raised if even that one was overtaken — by what no lock keeps (a file staged on the
    registration page meanwhile), or by a writer that does not take the case's row."""
    signer: KeySigner | None = None
    for _ in range(attempts - 1):
        with svc.uow.read() as session:
            prepared = prepare(session, signer=signer, held=False)
        signer = prepared.signer  # unlocked once (the PIN's scrypt), kept for the next try
        try:
            with svc.uow() as work:
                result = write(work, prepared)
                work.commit()
                return result
        except MOVED:
            continue
    try:
        with svc.uow() as work:
            result = write(work, prepare(work.session, signer=signer, held=True))
            work.commit()
            return result
    except MOVED:
        raise Conflict(refusal) from None


__all__ = ["ATTEMPTS", "MOVED", "Prepare", "Prepared", "StepMoved", "optimistic"]
