"""Which sentences a model gets to read: a recall-first prefilter (issue 5, cost).

The seed sends every transcript and ticket whole. Most of a CSM call is greetings,
agenda, bug reports and scheduling, and half of it is the CSM talking. The prefilter
keeps only what a model needs to judge expansion intent:

- customer attendees' utterances only (coach and unknown speakers never count anyway),
  plus ticket subject and body;
- in those, the sentences that hold *expansion-shaped* language (any phrase of the
  taxonomy, its distinctive words, and a general expansion lexicon, below) and one
  sentence either side of each, for context. Everything else stays home.

It errs on the side of keeping: a false hit costs a few tokens, a miss costs a signal.
`esd eval` reports its recall on the gold set (labeled sentences inside kept windows)
and the share of customer tokens it keeps.

Pure: no I/O. Token counts are estimates (`estimate_tokens`), used for budgets and
reports; what a run costs is counted from the API's own usage figures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from esd.extractors.rules import compile_any
from esd.extractors.transcript import customer_turns, ticket_id
from esd.models import Attendee, Call, Ticket
from esd.references.schema import Phrase, Taxonomy
from esd.text import fold, sentence_spans

# Expansion-shaped language that no taxonomy needs to spell out: more people, seats and
# logins, new teams and hires, rollouts, plans, tiers, pricing, limits, security and
# compliance asks. Regex fragments over folded (lower-case, contraction-free) text;
# each must match whole words. Kept deliberately broad on nouns that only mean growth
# in this context, and narrow on common words ("team", "use") by requiring a cue
# next to them.
LEXICON: tuple[str, ...] = (
    # people and seats
    r"seats?", r"licen[cs](?:e|es|ed|ing)", r"logins?", r"log-?ins?", r"user ?base",
    r"(?:more|new|extra|additional|another|other)"
    r" (?:\w+ )?(?:users|people|folks|employees|engineers|analysts|reps|agents|"
    r"managers|members|colleagues|staff|hires|seats|accounts|teams|offices|sites)",
    r"(?:\d+|[a-z]+ty|[a-z]+teen|hundreds?|dozens?|thousands?) (?:\w+ )?"
    r"(?:hires|seats|engineers|employees|reps|agents|new people)",
    r"hir(?:e|es|ed|ing)", r"new hires?", r"headcount", r"onboard(?:s|ed|ing)?",
    r"(?:de)?provision\w*", r"access for", r"need(?:s)? access", r"get access",
    r"give (?:\w+ )?access",
    # teams, departments, rollout
    r"(?:another|other|second|third|new|whole|entire|sister) (?:\w+ )?"
    r"(?:teams?|departments?|groups?|divisions?|business units?|regions?|offices?)",
    r"(?:teams?|orgs?|groups?|departments?|divisions?) (?:are |is )?"
    r"(?:want|wants|need|needs)", r"departments?", r"company-?wide",
    r"wants? (?:in|their own|its own|our own)", r"(?:own|new|separate|second) workspaces?",
    r"directory", r"doubling", r"tripling", r"(?:will|going to) (?:double|triple)",
    r"acqui(?:re|red|ring|sition)s?", r"mergers?",
    r"org-?wide", r"across the (?:company|org|organi[sz]ation|business)", r"divisions?",
    r"subsidiar(?:y|ies)", r"roll(?:ing|ed)? (?:it |this |lumen )?out", r"rollout",
    r"expan(?:d|ds|ded|ding|sion)", r"grow(?:s|ing|th)?", r"scal(?:e|es|ed|ing) up",
    r"(?:also|started|starting|start) (?:to )?us(?:e|ing)", r"adopt(?:s|ed|ing|ion)?",
    # plans, tiers, pricing, contract
    r"upgrad(?:e|es|ed|ing)", r"tiers?", r"plans? (?:above|up|with)", r"higher plan",
    r"enterprise", r"premium", r"add-?ons?", r"pric(?:e|es|ing)", r"quotes?",
    r"purchas(?:e|es|ed|ing)", r"pay(?:ing)? for", r"order form",
    r"vendor (?:risk|security)", r"true-?up", r"overage",
    # limits and capacity
    r"limits?", r"rate-?limit(?:ed|ing)?", r"capacity", r"quota", r"throttl(?:e|ed|ing)",
    r"api", r"volume", r"outgrow(?:n|ing)?", r"max(?:ed)? out", r"ceiling", r"cap(?:ped)?",
    # security and compliance
    r"sso", r"saml", r"scim", r"okta", r"single sign-?on", r"security", r"compliance",
    r"complian(?:t|ce)", r"audit(?:s|or|ors)?", r"soc ?2", r"hipaa", r"gdpr", r"fedramp",
    r"iso ?27001", r"rbac", r"permissions?", r"roles?-based",
    # premium features
    r"automat\w*", r"workflows?", r"advanced", r"analytics",
)

# Words of taxonomy phrases too common to mark a sentence on their own.
_COMMON = (
    "a an the and or but of to for in on at by with from as is are was were be been "
    "being am do does did done we our us you your it its they them their this that "
    "these those i my me he she his her who what which how when where why there here "
    "not no yes all any some also can cannot will would should could may might must "
    "have has had get got just about into than then so very really much many more "
    "most other another same such only own out up over under again once too each both "
    "few use used using need needs needed trying try start starting started new one "
    "two three team teams is on roadmap people support case sure like want wants way "
    "thing things going go make made know think see look add added access feature "
    "features users user dashboards dashboard log rate count requirements hitting "
    "supported review request"
)
COMMON = frozenset(_COMMON.split())

Source = Literal["call", "ticket"]


def estimate_tokens(text: str) -> int:
    """About four characters of English per token: budgets and reports, not billing."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(frozen=True)
class Unit:
    """One customer utterance (or a ticket's subject or body) and what the prefilter
    kept of it: `kept` and `hits` index into `spans` (every sentence of `text`)."""

    text: str
    speaker: Attendee | None
    spans: tuple[tuple[int, int], ...]
    kept: tuple[int, ...]
    hits: frozenset[int]

    def sentence(self, index: int) -> str:
        start, end = self.spans[index]
        return self.text[start:end].strip()

    def runs(self) -> list[list[int]]:
        """Kept sentence indexes, grouped into runs of neighbours."""
        groups: list[list[int]] = []
        for index in self.kept:
            if groups and groups[-1][-1] == index - 1:
                groups[-1].append(index)
            else:
                groups.append([index])
        return groups


@dataclass(frozen=True)
class Excerpt:
    """What the prefilter keeps of one call or ticket, with the customer text around it
    (for checking the model's quotes against the source)."""

    source: Source
    source_id: str
    account_id: str
    occurred_at: datetime
    units: tuple[Unit, ...]  # every customer unit, kept sentences or not
    attendees: tuple[Attendee, ...] = ()

    @property
    def kept(self) -> bool:
        return any(u.kept for u in self.units)

    def kept_text(self) -> str:
        return " ".join(u.sentence(i) for u in self.units for i in u.kept)

    @property
    def tokens_total(self) -> int:
        return sum(estimate_tokens(u.text) for u in self.units)

    @property
    def tokens_kept(self) -> int:
        return estimate_tokens(self.kept_text())


class Prefilter:
    """Expansion-shaped sentences (and `context` neighbours) of customer text."""

    def __init__(self, taxonomy: Taxonomy, context: int = 1) -> None:
        self.context = context
        self.vocabulary = taxonomy_vocabulary(taxonomy)
        words = sorted(self.vocabulary, key=len, reverse=True)
        alternatives = [*LEXICON, *(re.escape(w) + r"(?:s|es|ed|ing|d)?" for w in words)]
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
        # Whatever the rule extractor would match (triggers and negative examples) is
        # kept too, however common its words.
        self._phrases = compile_any(p for sku in taxonomy.skus
                                    for p in [*sku.call_triggers, *sku.negatives])

    def is_expansion_shaped(self, sentence: str) -> bool:
        folded = fold(sentence)
        return bool(self._pattern.search(folded)
                    or (self._phrases is not None and self._phrases.search(folded)))

    def unit(self, text: str, speaker: Attendee | None) -> Unit:
        spans = tuple(sentence_spans(text))
        hits = frozenset(i for i, (s, e) in enumerate(spans)
                         if text[s:e].strip() and self.is_expansion_shaped(text[s:e]))
        kept = sorted({j for i in hits
                       for j in range(i - self.context, i + self.context + 1)
                       if 0 <= j < len(spans) and text[spans[j][0]:spans[j][1]].strip()})
        return Unit(text, speaker, spans, tuple(kept), hits)

    def call(self, call: Call) -> Excerpt:
        return Excerpt(
            source="call", source_id=call.call_id, account_id=call.account_id,
            occurred_at=call.occurred_at,
            units=tuple(self.unit(t.text, t.speaker) for t in customer_turns(call)),
            attendees=tuple(call.attendees),
        )

    def ticket(self, ticket: Ticket) -> Excerpt:
        return Excerpt(
            source="ticket", source_id=ticket_id(ticket), account_id=ticket.account_id,
            occurred_at=ticket.opened_at,
            units=(self.unit(ticket.subject, None), self.unit(ticket.body_summary, None)),
        )


def taxonomy_vocabulary(taxonomy: Taxonomy) -> frozenset[str]:
    """The distinctive words of what the taxonomy calls expansion: call-trigger words,
    SKU ids, usage features, ticket tags and subjects. Negative examples and the
    conditional guard add none: alone, "if" or "downgrade" is not expansion-shaped."""
    texts: list[str] = []
    for sku in taxonomy.skus:
        texts.append(sku.id)
        texts += _phrase_texts(sku.call_triggers)
        texts += sku.ticket_tags + sku.ticket_subjects
        texts += [f for t in sku.usage_triggers for f in t.features]
    words = {w for text in texts for w in re.findall(r"[a-z0-9]+", fold(text))}
    return frozenset(w for w in words if w not in COMMON and len(w) > 1 and not w.isdigit())


def _phrase_texts(phrases: Iterable[Phrase]) -> list[str]:
    out: list[str] = []
    for phrase in phrases:
        for part in phrase.parts:
            if part.kind == "lit":
                out.append(part.text)
            elif part.kind == "choice":
                out += part.choices
    return out
