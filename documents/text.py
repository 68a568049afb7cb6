"""Text helpers shared by the templates: safe user text, Chinese dates and amounts.

User-typed text reaches the PDF through Jinja autoescape (markup stays literal). C0 control characters
would make the HTML parser or the PDF text layer misbehave, so they are shown as the matching Unicode
"control picture" (U+2400 block: U+0001 -> ␁, DEL -> ␡): visible, unambiguous, and impossible to confuse
with text the user typed. CR/CRLF become a newline; tab and newline are kept. Lone surrogates (possible
from JSON) become U+FFFD.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _picture(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code == 0x7F:
        return "\u2421"
    if code < 0x20:
        return chr(0x2400 + code)
    return "\ufffd"


def clean_text(value: str) -> str:
    """Return `value` safe to lay out: newlines normalised, control characters made visible."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_picture, value)


def format_date(value: date | datetime | None) -> str:
    """2026-03-05 -> 2026年3月5日 (the form the national templates use)."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime(value: datetime | None) -> str:
    """2026-03-05 14:30 -> 2026年3月5日14时30分."""
    if value is None:
        return ""
    return f"{format_date(value)}{value.hour}时{value.minute:02d}分"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "兆"]


def _group_upper(n: int) -> str:
    """0..9999 in 大写, with inner zeros collapsed (1005 -> 壹仟零伍)."""
    out = ""
    zero = False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _UNITS[pos]
    return out


def amount_upper(amount: Decimal) -> str:
    """Decimal yuan -> 人民币大写 (5000 -> 伍仟元整), as 决定书 write fines to prevent alteration."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("negative amount")
    yuan = int(amount)
    cents = int((amount - yuan) * 100)
    parts: list[str] = []
    group = 0
    need_zero = False
    while yuan > 0:
        chunk = yuan % 10000
        if chunk:
            text = _group_upper(chunk) + _GROUPS[group]
            if need_zero:
                text += "零"
            parts.insert(0, text)
            need_zero = chunk < 1000
        elif parts:
            need_zero = True
        yuan //= 10000
        group += 1
    words = "".join(parts)
    if words:
        words = words.rstrip("零")
    words = (words or "零") + "元"
    jiao, fen = divmod(cents, 10)
    if not cents:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif int(amount):
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    return words


def format_amount(amount: Decimal | None) -> str:
    """5000 -> 人民币伍仟元整（¥5,000.00）."""
    if amount is None:
        return ""
    return f"人民币{amount_upper(amount)}（¥{amount:,.2f}）"


def format_size(size: int) -> str:
    """A file's size as a reader takes it in: 15.6 KB, 1.2 GB (binary multiples, as file managers show them)."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"
