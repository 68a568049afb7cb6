"""The `casetrail` loggers as JSON lines on stderr: for `casetrail serve` and the upload receiver, which must stay
lean (this module imports only the standard library and python-json-logger)."""

from __future__ import annotations

import logging
import sys


def json_request_log() -> None:
    """The `casetrail` loggers (the request log among them) as one JSON object per line on stderr."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{process}{message}", style="{",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                                                      "process": "pid"}))
    logger = logging.getLogger("casetrail")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
