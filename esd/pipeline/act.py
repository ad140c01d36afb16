"""Step 6 of the seed's method (contract §5.6): attach one next-best action from the
team's action library, or exactly `needs human review`."""

from __future__ import annotations

import re

from esd.models import Signal
from esd.references.schema import ActionLibrary, ActionRow
from esd.text import words

NEEDS_REVIEW = "needs human review"

# What counts as a named artifact next to a vague verb (contract §5.6).
ARTIFACT = re.compile(
    r"\b(meeting|call|walkthrough|workshop|demo|doc|docs|document|deck|checklist|"
    r"report|"
    r"one-pager|playbook|sheet|ticket|cta|thread|link|contact|admin|manager|owner|champion|"
    r"engineer|architect|buyer|sponsor|vp|cfo|cto|ciso|director)s?\b|https?://|\{link\}|\{name\}",
    re.IGNORECASE,
)
# Function words never decide which row fits the evidence best.
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of",
    "on", "or", "the", "this", "to", "with",
})


def is_vague(action: str, denylist: list[str]) -> bool:
    """True when the action uses a denylisted phrase and names no artifact."""
    lowered = action.lower()
    return any(d in lowered for d in denylist) and not ARTIFACT.search(action)


def evidence_words(signal: Signal) -> set[str]:
    text = [m.quote for m in signal.call_evidence + signal.ticket_evidence]
    for e in signal.usage_evidence:
        text += [e.event_type, e.metric_name, e.feature or ""]
    return words(" ".join(text))


def choose_row(signal: Signal, rows: list[ActionRow]) -> ActionRow | None:
    """The row whose trigger pattern shares the most words with the evidence; ties go to
    the earlier row."""
    have = evidence_words(signal)
    best, best_score = None, -1
    for row in rows:
        score = len((words(row.trigger_pattern) - _STOP) & have)
        if score > best_score:
            best, best_score = row, score
    return best


def action_for(signal: Signal, library: ActionLibrary) -> str:
    section = library.sections.get(signal.sku)
    row = choose_row(signal, section.rows) if section else None
    if row is None or is_vague(row.action, library.denylist):
        return NEEDS_REVIEW
    return row.action


def attach_actions(signals: list[Signal], library: ActionLibrary) -> None:
    """Set `action` on each (strong) signal in place."""
    for signal in signals:
        signal.action = action_for(signal, library)
