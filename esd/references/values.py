"""The value grammar of `4-segmentation.md`: numbers, ranges, amounts, ratios and dates.

Lenient about spelling, strict about the value: a range's dash may be `-`, `–`, `—` or
`to`, and a minus may be `−`. The forms accepted:

    number            5   0.5   25%   (`fraction`: 25% or 0.25 both give 0.25)
    percent range     5-10%   5–10 %   5 to 10   ~5%   about 5
    money             $500K   500,000   $1.5M   $2B   $500K+
    money range       $1M-$2M   $1M to $2M
    money bound       under / below / less than / up to / at most / < / <= / ≤ $500K
                      over / above / more than / at least / > / >= / ≥ $2M
    no amount         (blank)   -   none   n/a   no target   calibrated   auto
    CSM ratio         1 CSM : 5-8 accounts   1:5   1 per 8   2/10-16;  no CSM: 0, none
    band range        60-79   60 to 79   80+   80 and above   80 or more   >= 80   ≥ 80
    quarters          2 quarters   for 2 consecutive quarters
    more than N%      more than 25%   over 25%   above 25 %   > 25%
    date              YYYY-MM-DD

and they are written back as `fmt` (0.5, 100) and `esd.format.usd` ($500K, $1.5M).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Report = Callable[[int, str], None]

_NUM = r"[-−]?\d+(?:\.\d+)?"
_DASH = r"(?:-|–|—|to\b)"
_NUMBER = re.compile(rf"(?P<num>{_NUM})\s*(?P<pct>%)?")
_RANGE = re.compile(rf"^(?:~|≈|about|approx\.?)?\s*(?P<a>{_NUM})\s*%?\s*"
                    rf"(?:{_DASH}\s*(?P<b>{_NUM}))?", re.IGNORECASE)
_AMOUNT = r"\$?\s*(\d[\d,]*(?:\.\d+)?)\s*([kmb])?(?![a-z\d])"
_MONEY_RANGE = re.compile(rf"^{_AMOUNT}\s*{_DASH}\s*{_AMOUNT}", re.IGNORECASE)
_MONEY = re.compile(rf"^{_AMOUNT}(\s*\+)?", re.IGNORECASE)
_BELOW = re.compile(r"^(?:under|below|less than|up to|at most|<=?|≤)\s*", re.IGNORECASE)
_ABOVE = re.compile(r"^(?:over|above|more than|at least|>=?|≥)\s*", re.IGNORECASE)
_NO_VALUE = re.compile(r"^(?:[-–—]?$|(?:none|n/?a|no target|calibrated|auto)\b)",
                       re.IGNORECASE)
_RATIO = re.compile(rf"^(?P<n>{_NUM})\s*(?:csms?)?\s*(?::|per\b|/)\s*(?P<a>{_NUM})\s*"
                    rf"(?:{_DASH}\s*(?P<b>{_NUM}))?", re.IGNORECASE)
_NO_CSM = re.compile(r"^(?:0|none|no csm)\b", re.IGNORECASE)
_BAND = re.compile(rf"^(?P<a>{_NUM})\s*(?:(?P<plus>\+|and above|or more)|{_DASH}\s*(?P<b>{_NUM}))",
                   re.IGNORECASE)
_AT_LEAST = re.compile(rf"^(?:>=|≥)\s*(?P<a>{_NUM})")
_QUARTERS = re.compile(rf"(?P<num>{_NUM})\s*(?:consecutive\s+)?quarters?\b", re.IGNORECASE)
_MORE_THAN = re.compile(rf"(?:more than|over|above|>)\s*(?P<num>{_NUM})\s*%", re.IGNORECASE)


# --- writing values back --------------------------------------------------------------


def fmt(value: float) -> str:
    return f"{value:g}"


# --- reading them ---------------------------------------------------------------------


def to_float(text: str) -> float:
    """A number that may carry a Unicode minus."""
    return float(text.replace("−", "-"))


def _range(text: str) -> tuple[float, float] | None:
    m = _RANGE.match(text.strip())
    if not m:
        return None
    low = to_float(m["a"])
    return low, to_float(m["b"]) if m["b"] else low


def _amount(number: str, unit: str | None) -> float:
    scale = {"k": 1e3, "m": 1e6, "b": 1e9}.get((unit or "").lower(), 1)
    return float(number.replace(",", "")) * scale


def money(text: str) -> tuple[float | None, float | None] | str:
    """(low, high) in USD, either None for no bound; a message when unreadable."""
    t = text.strip()
    if _NO_VALUE.match(t):
        return None, None
    if t[0] in "-−":
        return f'"{text}" is negative'
    if m := _BELOW.match(t):
        one = _MONEY.match(t[m.end():])
        return (None, _amount(one[1], one[2])) if one else f'"{text}" is not an amount'
    if m := _ABOVE.match(t):
        one = _MONEY.match(t[m.end():])
        return (_amount(one[1], one[2]), None) if one else f'"{text}" is not an amount'
    if m := _MONEY_RANGE.match(t):
        return _amount(m[1], m[2]), _amount(m[3], m[4])
    if m := _MONEY.match(t):
        value = _amount(m[1], m[2])
        return (value, None) if m[3] else (value, value)
    return f'"{text}" is not an amount (write e.g. $500K, $1M-$2M or under $500K)'


def share(text: str, what: str, line: int, problem: Report) -> tuple[float, float] | None:
    """A target range in percent, 0-100, min <= max."""
    got = _range(text)
    if got is None:
        problem(line, f'{what} is not a number: "{text}" (write e.g. 5-10%)')
        return None
    low, high = got
    if low < 0 or high < 0:
        problem(line, f'{what} "{text}" is negative')
    elif low > 100 or high > 100:
        problem(line, f'{what} "{text}" is outside 0-100%')
    elif low > high:
        problem(line, f'{what} "{text}" has its minimum above its maximum')
    else:
        return got
    return None


def number(text: str, what: str, line: int, problem: Report, *, percent: bool = False,
           fraction: bool = False, integer: bool = False, low: float = 0,
           high: float | None = None) -> float | None:
    """The first number in `text`. `fraction`: 25% or 0.25 both give 0.25."""
    m = _NUMBER.search(text)
    if not m:
        problem(line, f'{what} is not a number: "{text}"')
        return None
    value = to_float(m["num"])
    if fraction and m["pct"]:
        value /= 100
    shown = m[0].strip() if not percent or m["pct"] else f"{m[0].strip()}%"
    if value < 0:
        problem(line, f"{what} {shown} is negative")
    elif integer and value != int(value):
        problem(line, f"{what} {shown} is not a whole number")
    elif value < low or (high is not None and value > high):
        bounds = f"{fmt(low)}-{fmt(high)}" if high is not None else f"at least {fmt(low)}"
        problem(line, f"{what} {shown} is outside {bounds}")
    else:
        return value
    return None


def csm_ratio(text: str) -> tuple[float, float, float] | None:
    """(CSMs, fewest accounts, most accounts) of `1 CSM : 5-8 accounts`, unchecked."""
    m = _RATIO.match(text)
    if m is None:
        return None
    low = to_float(m["a"])
    return to_float(m["n"]), low, to_float(m["b"]) if m["b"] else low


def no_csm(text: str) -> bool:
    return _NO_CSM.match(text) is not None


def band_range(text: str) -> tuple[float, float] | None:
    """(low, high) of a score band, unchecked; `80+` and `>= 80` reach 100."""
    m = _BAND.match(text) or _AT_LEAST.match(text)
    if m is None:
        return None
    high = m.groupdict().get("b")
    return to_float(m["a"]), to_float(high) if high else 100.0


def quarters(text: str) -> str | None:
    """The `N quarters` phrase in `text`, for `number` to read and check."""
    m = _QUARTERS.search(text)
    return m[0] if m else None


def more_than(text: str) -> str | None:
    """The `more than N%` phrase in `text`, for `number` to read and check."""
    m = _MORE_THAN.search(text)
    return m[0] if m else None
