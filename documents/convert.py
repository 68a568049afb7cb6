"""Plain dict (form data, JSON) -> typed, frozen document dataclass.

The engine passes whatever the task form produced; a wrong or missing field must fail here, before
anything is rendered or signed, with a message that names the field (dotted path, e.g.
``party.credit_code`` or ``opinions[2].vote``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from .errors import DocumentDataError

T = TypeVar("T")


def _fail(path: str, message: str) -> DocumentDataError:
    return DocumentDataError(f"{path or 'data'}: {message}", field=path)


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
            raise _fail(path, "expected a list")
        return tuple(_convert(item_tp, v, f"{path}[{i}]") for i, v in enumerate(value))
    if value is None:
        raise _fail(path, "must not be empty (null)")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise _fail(path, f"expected an object for {tp.__name__}")
        return from_mapping(tp, value, path)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return value if isinstance(value, tp) else tp(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise _fail(path, f"{value!r} is not one of: {allowed}") from None
    return _scalar(tp, value, path)


def _scalar(tp: Any, value: Any, path: str) -> Any:
    if tp is str:
        if not isinstance(value, str):
            raise _fail(path, "expected text")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(path, "expected true/false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, "expected a whole number")
        return value
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal | float):
            raise _fail(path, "expected an amount")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise _fail(path, f"{value!r} is not an amount") from None
        if not amount.is_finite() or amount < 0:
            raise _fail(path, f"{value!r} is not a non-negative amount")
        return amount
    if tp is dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        if not isinstance(value, str):
            raise _fail(path, "expected a date-time (ISO 8601)")
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise _fail(path, f"{value!r} is not an ISO 8601 date-time") from None
    if tp is dt.date:
        if isinstance(value, dt.datetime):
            raise _fail(path, "expected a date, not a date-time")
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise _fail(path, "expected a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _fail(path, f"{value!r} is not a date (YYYY-MM-DD)") from None
    raise _fail(path, f"unsupported field type {tp!r}")  # a bug in a dataclass, not in the data


def from_mapping(cls: type[T], data: Mapping[str, Any], path: str = "") -> T:
    """Build dataclass `cls` from `data`; unknown keys are refused (a typo must not be silently lost)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{path}." if path else ""
        raise _fail(f"{where}{unknown[0]}", f"unknown field for {cls.__name__}")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        sub = f"{path}.{name}" if path else name
        if name not in data:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise _fail(sub, "missing required field")
            continue
        kwargs[name] = _convert(hints[name], data[name], sub)
    return cls(**kwargs)


def to_plain(value: Any) -> Any:
    """Dataclass -> JSON-able plain data (dates ISO, amounts as strings): the input of the verification code."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
