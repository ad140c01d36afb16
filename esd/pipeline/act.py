"""Step 6 of the seed's method (contract §5.6): attach one next-best action from the
team's action library, or exactly `needs human review`."""

from __future__ import annotations

from esd.models import Signal
from esd.references.actions import is_vague
from esd.references.schema import ActionLibrary, ActionRow
from esd.text import words

NEEDS_REVIEW = "needs human review"

# Function words never decide which row fits the evidence best.
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of",
    "on", "or", "the", "this", "to", "with",
})


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


def action_row(signal: Signal, library: ActionLibrary) -> ActionRow | None:
    """The library row whose action the signal gets; None means `needs human review`."""
    section = library.sections.get(signal.sku)
    row = choose_row(signal, section.rows) if section else None
    if row is None or is_vague(row.action, library.denylist):
        return None
    return row


def action_for(signal: Signal, library: ActionLibrary) -> str:
    row = action_row(signal, library)
    return NEEDS_REVIEW if row is None else row.action


def attach_actions(signals: list[Signal], library: ActionLibrary) -> None:
    """Set `action` (and `action_row`, the row's trigger pattern, which esd report
    groups conversion by) on each (strong) signal in place."""
    for signal in signals:
        row = action_row(signal, library)
        signal.action = NEEDS_REVIEW if row is None else row.action
        signal.action_row = None if row is None else row.trigger_pattern
