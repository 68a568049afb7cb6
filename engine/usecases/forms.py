"""Form data is validated against the task's JSON Schema before anything is written."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from engine.errors import ValidationError


def validate_form(schema: dict[str, Any] | None, data: Any, *, title: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(f"{title}: 表单数据必须是 JSON 对象 (form data must be a JSON object)")
    if schema is None:
        return data
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors: dict[str, str] = {}
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else err.message
            path = f"{path}/{missing}" if path else missing
            errors.setdefault(path, "必填 (required)")
        elif err.validator == "additionalProperties":
            errors.setdefault(path or "(form)", f"不允许的字段 (unexpected field): {err.message}")
        else:
            errors.setdefault(path or "(form)", err.message)
    if errors:
        raise ValidationError(f"{title}: 表单数据有误 (invalid form data)", errors)
    return data
