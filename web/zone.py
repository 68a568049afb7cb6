"""The agency's local time, in which web shows every stored (UTC) moment: settings.json `agency.timezone`, read
from the services of the app serving the request (engine `Settings.zone`)."""

from __future__ import annotations

import datetime as dt

from flask import current_app


def local_zone() -> dt.tzinfo:
    return current_app.extensions["casetrail.services"].settings.zone


def local_now() -> dt.datetime:
    """The app's clock, in the agency's local time."""
    return current_app.extensions["casetrail.clock"]().astimezone(local_zone())
