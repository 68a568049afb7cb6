"""Form data is validated against the task's JSON Schema before anything is written.

Besides JSON Schema (2020-12) the model's schemas use two keywords of their own, checked here:
- `"contentMediaType": "image/png"` on a string: the value is a data URL of a real PNG within the settings'
  bounds (`Settings.drawn_images`; engine/rules/drawn_images.py) — the party's signature drawn on the screen;
- `"x-later-than": {"a": "b"}` on an object: its date-time `a` must be later than its date-time `b` (an
  inspection ends after it starts).
A `oneOf` whose choices are told apart by a `const` (a drawn signature, or 拒绝签名) reports the errors of the
choice the data made, field by field, rather than "not valid under any of the given schemas".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError as SchemaError

from engine.errors import ValidationError
from engine.rules.drawn_images import PNG_MEDIA_TYPE, DrawnImageError, ImageLimits, png_from_data_url


def _validator(images: ImageLimits | None) -> type:
    def content_media_type(_v: Any, media_type: Any, instance: Any, _schema: Any) -> Iterator[SchemaError]:
        if media_type != PNG_MEDIA_TYPE or not isinstance(instance, str):
            return
        if images is None:  # a model that asks for images with settings that bound none
            yield SchemaError("未配置手写签名图片的限制 (settings.json has no drawn_images bounds)")
            return
        try:
            png_from_data_url(instance, images)
        except DrawnImageError as exc:
            yield SchemaError(str(exc))

    def later_than(_v: Any, pairs: Any, instance: Any, schema: Any) -> Iterator[SchemaError]:
        if not isinstance(instance, dict) or not isinstance(pairs, dict):
            return
        for later, earlier in pairs.items():
            end, start = _moment(instance.get(later)), _moment(instance.get(str(earlier)))
            if end is None or start is None or end > start:
                continue
            titles = schema.get("properties", {})
            name = titles.get(str(earlier), {}).get("title", earlier)
            name_en = titles.get(str(earlier), {}).get("x-title-en", earlier)
            yield SchemaError(f"须晚于“{name}” (must be later than “{name_en}”)", path=[later])

    return validators.extend(Draft202012Validator, {"contentMediaType": content_media_type,
                                                    "x-later-than": later_than})


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None  # format: date-time already refuses a naive one


def validate_form(schema: dict[str, Any] | None, data: Any, *, title: str,
                  images: ImageLimits | None = None) -> dict[str, Any]:
    """`data` if it is valid under `schema`; else ValidationError with {path: message}. `images` bounds the drawn
    images the schema asks for (`Settings.drawn_images`)."""
    if not isinstance(data, dict):
        raise ValidationError(f"{title}: 表单数据必须是 JSON 对象 (form data must be a JSON object)")
    if schema is None:
        return data
    validator = _validator(images)(schema, format_checker=FormatChecker())
    errors: dict[str, str] = {}
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        for leaf in _chosen(err):
            _note(leaf, errors)
    if errors:
        raise ValidationError(f"{title}: 表单数据有误 (invalid form data)", errors)
    return data


def _chosen(err: SchemaError) -> list[SchemaError]:
    """A `oneOf`/`anyOf` error as the errors of the choice the data meant: the choices whose `const` matched (a
    choice refused on its `const` is another kind of value), the one with the fewest errors. Else the error."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    by_choice: dict[int, list[SchemaError]] = {}
    for sub in err.context:
        by_choice.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    meant = [subs for subs in by_choice.values() if not any(s.validator == "const" for s in subs)]
    if not meant:
        return [err]
    return [leaf for sub in min(meant, key=len) for leaf in _chosen(sub)]


def _note(err: SchemaError, errors: dict[str, str]) -> None:
    path = "/".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        path = f"{path}/{missing}" if path else missing
        errors.setdefault(path, "必填 (required)")
    elif err.validator == "additionalProperties":
        errors.setdefault(path or "(form)", f"不允许的字段 (unexpected field): {err.message}")
    else:
        errors.setdefault(path or "(form)", err.message)
