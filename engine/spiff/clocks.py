"""A clock moved by hand: replays, scenarios and tests run the model on their own time, not the wall clock."""

from __future__ import annotations

import datetime as dt


class MutableClock:
    """A clock a test or a replay moves forward by hand (never backwards)."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance_to(self, moment: dt.datetime) -> None:
        self.moment = max(self.moment, moment)
