"""The rule extractor by the shortest route, for differential tests (issue 16).

Every customer utterance, every sentence, every SKU: the contract's rules (§5.3) with
the phrase patterns and the contraction folding as they were before the scan was made
fast (a look-behind first, `\\b` in front of can/won), and no anchor, prefilter or slim
call anywhere. `RuleExtractor` must find exactly what this finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from esd.extractors.guards import ConditionalGuard, NegationGuard, answered_no
from esd.extractors.transcript import Turn, customer_turns, ticket_id
from esd.models import Call, Mention, Ticket
from esd.references.schema import Phrase, Taxonomy
from esd.text import sentence_spans

SEP = r"[^\w\x00]+"
_SLOT = rf"\w+(?:{SEP}\w+){{0,3}}"
_CONTRACTION = re.compile(r"\b(can|won)['’]t\b|n['’]t\b|['’](d|re|ll|ve|m)\b")
_EXPANSIONS = {"d": " would", "re": " are", "ll": " will", "ve": " have", "m": " am"}


def fold(text: str) -> str:
    def expand(match: re.Match[str]) -> str:
        if match.group(1):
            return "cannot" if match.group(1) == "can" else "will not"
        return _EXPANSIONS[match.group(2)] if match.group(2) else " not"

    return _CONTRACTION.sub(expand, text.lower())


def phrase_pattern(phrase: Phrase) -> str:
    pieces: list[str] = []
    for part in phrase.parts:
        if part.kind == "lit":
            pieces.extend(re.escape(w) for w in re.findall(r"\w+", part.text))
        elif part.kind == "choice":
            options = [SEP.join(re.escape(w) for w in re.findall(r"\w+", c))
                       for c in part.choices]
            pieces.append("(?:" + "|".join(o for o in options if o) + ")")
        else:
            pieces.append(_SLOT)
    return r"(?<!\w)" + SEP.join(pieces) + r"(?!\w)"


def _any(phrases: Iterable[Phrase]) -> re.Pattern[str] | None:
    sources = sorted({phrase_pattern(p) for p in phrases})
    return re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None


def extract(taxonomy: Taxonomy, calls: Iterable[Call], tickets: Iterable[Ticket] = (),
            ) -> list[Mention]:
    skus = [(sku.id, _any(sku.call_triggers), _any(sku.negatives))
            for sku in taxonomy.skus if sku.call_triggers]
    if not skus:
        return []
    phrases = {sku.id: [(re.compile(phrase_pattern(p)), p.text) for p in sku.call_triggers]
               for sku in taxonomy.skus}
    conditional = ConditionalGuard(taxonomy, phrase_pattern, SEP)
    negation = NegationGuard(taxonomy, phrase_pattern)
    sources = [(customer_turns(c), c.account_id, c.call_id, "call", c.occurred_at)
               for c in calls]
    sources += [([Turn(t.subject, None), Turn(t.body_summary, None)], t.account_id,
                 ticket_id(t), "ticket", t.opened_at) for t in tickets]
    out = []
    for units, account_id, source_id, source, when in sources:
        for unit in units:
            sentences = [unit.text[a:b].strip() for a, b in sentence_spans(unit.text)]
            folded = [fold(s) for s in sentences]
            for i, sentence in enumerate(sentences):
                denied = answered_no(folded[i], folded[i + 1] if i + 1 < len(folded) else None)
                for sku_id, triggers, negatives in skus:
                    matches = list(triggers.finditer(folded[i]))
                    if not matches:
                        continue
                    standing = [m for m in matches if not negation.negated(folded[i], *m.span())]
                    if negatives is not None and negatives.search(folded[i]):
                        trigger, reason = matches[0], "negative-example"
                    elif denied or not standing:
                        trigger, reason = matches[0], "negated"
                    elif conditional.search(folded[i]):
                        trigger, reason = standing[0], "conditional"
                    else:
                        trigger, reason = standing[0], None
                    said = trigger.group(0)
                    out.append(Mention(
                        account_id=account_id, sku=sku_id, source=source, source_id=source_id,
                        quote=sentence, trigger=said, occurred_at=when,
                        phrase=next((text for p, text in phrases[sku_id] if p.fullmatch(said)),
                                    None),
                        speaker=unit.speaker.name if unit.speaker else None,
                        speaker_title=unit.speaker.label if unit.speaker else None,
                        label="not_signal" if reason else "signal", reason=reason))
    return out
