"""The labels of the models' stage codes (the `stage` property of a step, and `closed` for an ended case), in
Chinese and English. They are data beside the model (workflows/stages.json), as the 文书 codes are
(workflows/documents.json): several stage codes are also step ids of the default model, and a province's model
with other stages needs a line of data, not code."""

from __future__ import annotations

import functools
import json
from pathlib import Path

STAGES_FILE = Path(__file__).resolve().parents[2] / "workflows" / "stages.json"


@functools.cache
def stage_labels() -> dict[str, tuple[str, str]]:
    """Stage code -> (中文, English), read once."""
    data = json.loads(STAGES_FILE.read_text(encoding="utf-8"))
    return {code: (str(label["zh"]), str(label["en"])) for code, label in data.items() if not code.startswith("$")}
