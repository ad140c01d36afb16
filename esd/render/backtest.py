"""backtest.json and backtest.md (contract §13): what the current reference files would
have sent, week by week, and how that compares with what was delivered then."""

from __future__ import annotations

import json
from typing import Any

from esd.format import utc_z
from esd.outcomes.backtest import (
    CAPPED,
    CONVERSION_DAYS,
    GONE,
    WEAK,
    Backtest,
    Comparison,
    Counts,
    CsmWeek,
    Fates,
)
from esd.render.digest import md_text

SHOWN_TRIGGERS = 40  # in backtest.md; backtest.json holds every phrase


def counts_json(counts: dict[str, Counts]) -> dict[str, dict[str, int]]:
    return {key: {"strong": c.strong, "weak": c.weak} for key, c in counts.items()}


def csm_json(csm: CsmWeek) -> dict[str, Any]:
    return {"owner_email": csm.owner_email, "strong": csm.strong, "overflow": csm.overflow,
            "flooding_warning": csm.flooding is not None, "flooding_text": csm.flooding,
            "strong_total": csm.strong_total, "weak": csm.weak}


def fates_json(fates: Fates) -> dict[str, Any]:
    return {"delivered": fates.delivered, "converted": fates.converted,
            "noise": fates.noise, "no_conversation": fates.no_conversation,
            "unknown": fates.unknown, "precision": fates.precision}


def comparison_json(row: Comparison) -> dict[str, Any]:
    return {**({"as_of": utc_z(row.as_of)} if row.as_of else {}),
            "recorded": row.recorded, "then": fates_json(row.then),
            "kept": fates_json(row.kept),
            "dropped": {**fates_json(row.dropped), "now": dict(row.dropped_as)},
            "new": row.new}


def to_json(bt: Backtest) -> dict[str, Any]:
    """The contract's keys (`weeks`, `by_sku`) first, never renamed; then the rest."""
    weeks = [{"as_of": utc_z(w.as_of), "status": "aborted" if w.aborted else "ok",
              "coverage_pct": w.coverage_pct, "aborted": w.aborted,
              "csms": [csm_json(c) for c in w.csms], "totals": w.totals(),
              "by_sku": counts_json(dict(sorted(w.by_sku.items())))} for w in bt.weeks]
    outcomes = None
    if bt.comparison is not None and bt.overall is not None:
        outcomes = {"state": bt.state, "conversion_days": CONVERSION_DAYS,
                    "weeks": [comparison_json(r) for r in bt.comparison],
                    "overall": comparison_json(bt.overall)}
    return {
        "weeks": weeks,
        "by_sku": counts_json(bt.by_sku),
        "by_trigger": counts_json(bt.by_trigger),
        "totals": bt.totals(),
        "as_of": utc_z(bt.weeks[-1].as_of) if bt.weeks else None,
        "window_days": 7,
        "cap_per_csm": bt.cap_per_csm,
        "taxonomy_hash": bt.taxonomy_hash,
        "extractor": bt.extractor,
        "source": {"kind": bt.source, "path": bt.source_path},
        "outcomes": outcomes,
        "notes": bt.notes,
    }


def dumps(bt: Backtest) -> str:
    return json.dumps(to_json(bt), indent=2, ensure_ascii=False) + "\n"


# --- backtest.md -----------------------------------------------------------------------


def cell(value: object) -> str:
    """Source text as one table cell: literal Markdown, no line break, no `|`."""
    return (md_text(str(value)) or "").replace("|", "\\|")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def csm_cell(csm: CsmWeek | None, aborted: bool) -> str:
    if aborted:
        return "aborted"
    if csm is None:
        return ""
    return (f"{csm.strong}{f' +{csm.overflow}' if csm.overflow else ''}"
            f"{' ⚑' if csm.flooding else ''}")


def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    return (["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
            + ["| " + " | ".join(row) + " |" for row in rows])


def render_markdown(bt: Backtest) -> str:
    """The whole report: weeks, CSMs per week, flooding, SKUs, phrases, outcomes."""
    first, last = bt.weeks[0].as_of.date(), bt.weeks[-1].as_of.date()
    lines = [f"# Backtest — {len(bt.weeks)} week{'s' if len(bt.weeks) != 1 else ''} "
             f"ending {first} to {last}", "",
             f"What the current reference files (taxonomy `{bt.taxonomy_hash}`) would have "
             f"sent: 7-day windows, at most {bt.cap_per_csm} strong signals listed per CSM, "
             f"{bt.extractor} extractor (the taxonomy's literal phrases, no model cost). "
             f"Data: --{bt.source} {cell(bt.source_path)}. Nothing was posted or recorded.",
             "", "## Weeks", ""]
    rows = []
    for w in bt.weeks:
        t = w.totals()
        if w.aborted:
            rows.append([str(w.as_of.date()), f"{w.coverage_pct:.1f}%",
                         "aborted: coverage below the threshold", "", "", "", ""])
            continue
        rows.append([str(w.as_of.date()), f"{w.coverage_pct:.1f}%", str(t["strong"]),
                     str(t["overflow"]), str(t["weak"]), str(t["csms_over_cap"]),
                     str(t["flooding_warnings"])])
    lines += _table(["week ending", "coverage", "strong listed", "over the cap", "weak",
                     "CSMs over the cap", "flooding warnings"], rows)
    lines += ["", "## Strong signals listed per CSM", "",
              f"`3 +2`: 3 listed, 2 more over the cap of {bt.cap_per_csm}; ⚑: the digest "
              "would have opened with the flooding warning.", ""]
    grid = bt.csm_grid()
    lines += _table(["CSM", *[str(w.as_of.date()) for w in bt.weeks]],
                    [[cell(email), *[csm_cell(c, bool(w.aborted))
                                     for c, w in zip(row, bt.weeks, strict=True)]]
                     for email, row in grid.items()])
    flooded = [(w, c) for w in bt.weeks for c in w.csms if c.flooding]
    if flooded:
        lines += ["", "## Flooding warnings", ""]
        lines += [f"- {w.as_of.date()}, {cell(c.owner_email)}: {cell(c.flooding)}"
                  for w, c in flooded]
    aborted = [w for w in bt.weeks if w.aborted]
    if aborted:
        lines += ["", "## Aborted weeks", ""]
        lines += [f"- {w.as_of.date()}: {cell(w.aborted)}" for w in aborted]
    lines += ["", "## By SKU", "", "Every signal, capped or not.", ""]
    lines += _table(["SKU", "strong", "weak"],
                    [[cell(k), str(c.strong), str(c.weak)] for k, c in bt.by_sku.items()])
    phrases = sorted(bt.by_trigger.items(), key=lambda kv: (-kv[1].strong - kv[1].weak,
                                                            kv[0]))
    lines += ["", "## By call-trigger phrase", "",
              "Every signal whose call evidence matched the phrase, capped or not.", ""]
    lines += _table(["phrase", "strong", "weak"],
                    [[cell(k), str(c.strong), str(c.weak)]
                     for k, c in phrases[:SHOWN_TRIGGERS]])
    if len(phrases) > SHOWN_TRIGGERS:
        lines += ["", f"(+{len(phrases) - SHOWN_TRIGGERS} more phrases in backtest.json)"]
    lines += ["", "## Compared with what was delivered", "", *outcome_lines(bt)]
    if bt.notes:
        lines += ["", "## Notes", "", *[f"- {cell(n)}" for n in bt.notes]]
    return "\n".join(lines) + "\n"


def outcome_lines(bt: Backtest) -> list[str]:
    if bt.comparison is None or bt.overall is None:
        return ["No state store to compare with (--state or ESD_STATE names one): only what "
                "the current references would send is shown."]
    lines = [f"State store: {cell(bt.state)}. Precision = converted ÷ delivered signals "
             f"with an outcome (converted within {CONVERSION_DAYS} days of delivery). "
             "Kept: delivered then and still listed now; dropped: now over the cap, weak, "
             "or no signal; new: listed now for a CSM who got that week's digest, not "
             "delivered then.", ""]
    rows = [comparison_row(str(r.as_of.date()) if r.as_of else "", r)
            for r in bt.comparison]
    rows.append(comparison_row("**all weeks**", bt.overall))
    return lines + _table(["week ending", "delivered", "converted", "noise",
                           "no conversation", "unknown", "precision then", "kept",
                           "precision kept", "dropped (capped/weak/none)", "new"], rows)


def comparison_row(label: str, r: Comparison) -> list[str]:
    if not r.recorded and not r.then.delivered:
        return [label, "not run", "", "", "", "", "", "", "", "", ""]
    drop = r.dropped_as
    return [label, str(r.then.delivered), str(r.then.converted), str(r.then.noise),
            str(r.then.no_conversation), str(r.then.unknown), percent(r.then.precision),
            str(r.kept.delivered), percent(r.kept.precision),
            f"{r.dropped.delivered} ({drop[CAPPED]}/{drop[WEAK]}/{drop[GONE]})", str(r.new)]
