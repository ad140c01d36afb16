"""report.md and report.json (contract §12): the seed's success metric as a file a CS
lead reads and one a script reads. report.html is esd.render.report_html."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from esd.format import utc_z
from esd.outcomes.metrics import (
    BAND_PCT,
    CONVERSION_DAYS,
    LOW_PCT,
    MIN_DELIVERED,
    NEEDS_REVIEW,
    WINDOW_DAYS,
    Measurement,
    Tally,
    pct,
)
from esd.render.digest import md_text

# (report.json key, table column, what a row is)
GROUPS = (("by_sku", "SKU", "SKU"),
          ("by_trigger", "Call-trigger phrase", "call-trigger phrase"),
          ("by_action", "Action row", "action row"), ("by_csm", "CSM", "CSM"))
BAND_WORDS = {
    "below-20": f"below {LOW_PCT} %",
    "under-band": f"under the {BAND_PCT[0]}–{BAND_PCT[1]} % band",
    "healthy": f"healthy ({BAND_PCT[0]}–{BAND_PCT[1]} %)",
    "above-40": f"above {BAND_PCT[1]} %",
    "too-few": f"too few to judge (under {MIN_DELIVERED})",
}
RULES = [
    f"A delivered strong signal is converted when its latest outcome is `converted` dated "
    f"within {CONVERSION_DAYS} days of delivery (day {CONVERSION_DAYS} included). A "
    f"confirmation dated later, or before delivery, counts as no conversation.",
    "`noise` (a :x: reaction, or esd outcome ... noise) and `no-conversation` count as "
    "recorded; the latest record for a signal wins.",
    f"A signal without an outcome is unknown while fewer than {CONVERSION_DAYS} days "
    "have passed since delivery (never a failure), and no conversation after that.",
    "Conversion rate = converted / delivered. Unknown signals stay in the denominator, "
    "so a figure with unknowns can only rise; \"at most\" is the rate if they all "
    "convert.",
    f"Trailing {WINDOW_DAYS} days: delivered after as-of minus {WINDOW_DAYS} days, up to "
    "as-of. A signal counts once under each of its call-trigger phrases, so those rows "
    "add up to more than the total.",
    f"Bands: below {LOW_PCT} %, under the {BAND_PCT[0]}–{BAND_PCT[1]} % band, healthy "
    f"({BAND_PCT[0]}–{BAND_PCT[1]} %, the seed's pilot baseline), above {BAND_PCT[1]} %. "
    f"No verdict under {MIN_DELIVERED} delivered signals: one signal would move the rate "
    f"by more than {100 // MIN_DELIVERED} points.",
    f"A month is complete once it has ended and {CONVERSION_DAYS} days have passed since "
    f"its last day (month end + {CONVERSION_DAYS} days <= as-of). Only complete months "
    f"count for the warning: two or more consecutive ones below {LOW_PCT} %, up to the "
    "latest complete month.",
]


def to_json(m: Measurement) -> dict[str, Any]:
    """The contract's keys first (never renamed), then the window and the rules."""
    groups = {key: {name: t.to_json() for name, t in getattr(m, key).items()}
              for key, _, _ in GROUPS}
    return {
        "as_of": utc_z(m.as_of),
        "trailing_30d": m.trailing.to_json(),
        **groups,
        "months": [{"month": x.month, **x.tally.to_json(), "complete": x.complete,
                    "complete_on": x.complete_on.isoformat()} for x in m.months],
        "warnings": list(m.warnings),
        "window": {"after": m.start.isoformat(), "through": m.end.isoformat(),
                   "days": WINDOW_DAYS},
        "recorded": m.recorded,
        "needs_review_key": NEEDS_REVIEW,
        "min_delivered_for_verdict": MIN_DELIVERED,
        "rules": RULES,
    }


def dumps(m: Measurement) -> str:
    return json.dumps(to_json(m), indent=2, ensure_ascii=False) + "\n"


def verdict(tally: Tally) -> str:
    """`healthy`, `below 20 % so far (4 open, at most 31 %)`, `too few to judge (under
    10)`: a verdict that open signals could still change says so."""
    words = BAND_WORDS[tally.band]
    if tally.band == "too-few" or not tally.unknown:
        return words
    if tally.band_final:
        return f"{words} ({tally.unknown} open, which cannot change the band)"
    return f"{words} so far ({tally.unknown} open, at most {pct(tally.max_rate)})"


def headline(tally: Tally) -> str:
    """`9 of 40 converted (22.5 %)`."""
    return f"{tally.converted} of {tally.delivered} converted ({pct(tally.conversion_rate)})"


def _cell(text: str) -> str:
    return (md_text(text) or "").replace("|", "\\|")


COLUMNS = ("delivered", "converted", "noise", "no conversation", "unknown", "rate",
           "verdict")


def _table(first: list[str], rows: list[tuple[list[str], Tally]]) -> list[str]:
    head = [*first, *COLUMNS]
    align = ["---"] * len(first) + ["---:"] * (len(COLUMNS) - 1) + ["---"]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for cells, t in rows:
        values = [*cells, *map(str, (t.delivered, t.converted, t.noise, t.no_conversation,
                                     t.unknown)), pct(t.conversion_rate), verdict(t)]
        out.append("| " + " | ".join(values) + " |")
    if not rows:
        out.append("| " + " | ".join(["—"] * len(first) + ["0"] * 5 + ["n/a", ""]) + " |")
    return out


def render_markdown(m: Measurement) -> str:
    t = m.trailing
    lines = [f"# Digest success metric — as of {m.end}", ""]
    if not any(x.tally.delivered for x in m.months):
        lines += ["No delivered strong signal is recorded in the state store yet: `esd run` "
                  "records each one the Slack DM carries.", ""]
    lines += [f"**Trailing {WINDOW_DAYS} days** (delivered {m.start + timedelta(days=1)} "
              f"to {m.end}): {headline(t)} · {t.noise} noise · {t.no_conversation} no "
              f"conversation · {t.unknown} unknown. Verdict: {verdict(t)}.", ""]
    for warning in m.warnings:
        lines += [f"> **Warning:** {warning}", ""]
    lines += ["## Per calendar month of delivery", ""]
    lines += _table(["month", "complete"], [
        ([x.month, "yes" if x.complete else f"from {x.complete_on}"], x.tally)
        for x in m.months])
    for key, title, what in GROUPS:
        tallies: dict[str, Tally] = getattr(m, key)
        lines += ["", f"## Per {what}, trailing {WINDOW_DAYS} days", ""]
        lines += _table([title], [([_cell(name)], tally) for name, tally in tallies.items()])
    late = sum(x.tally.converted_outside_14d for x in m.months)
    if late:
        lines += ["", f"{late} confirmation(s) were dated outside the {CONVERSION_DAYS} "
                  "days after delivery and count as no conversation."]
    lines += ["", "## How this is counted", ""] + [f"- {rule}" for rule in RULES]
    lines += ["", "Outcomes come from the CSMs' reactions on each signal's DM message "
              "(:white_check_mark: converted, :x: noise), read by every `esd run`, and from "
              "`esd outcome` (one signal, or `--import` a CSV from the CRM)."]
    return "\n".join(lines) + "\n"
