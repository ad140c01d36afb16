"""Issue 13 ("Real calls"): sentence splitting at abbreviations and ellipses, the
`negated` reason, the Not conditional exemptions, and the team's lists replacing esd's
defaults (contract §4, §5.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from esd.extractors.rules import RuleExtractor, conditional_pattern
from esd.models import Attendee, Call, Ticket, Utterance
from esd.references.phrases import parse_phrase
from esd.references.schema import Phrase, Sku, Taxonomy
from esd.text import fold, sentence_spans

WHEN = datetime(2026, 11, 18, tzinfo=UTC)
DANA = Attendee(name="Dana Lee", is_customer=True, title="VP IT")
TRIGGERS = ["SAML", "SCIM", "workflow automation", "need {N} more seats", "add {N} more seats",
            "pricing for {N} seats", "our security team needs", "audit log"]


def phrases(items) -> list[Phrase]:
    return [p for p in (parse_phrase(t, 1) for t in items) if isinstance(p, Phrase)]


def taxonomy(before=None, after=None, polite=None) -> Taxonomy:
    sku = Sku(id="sku-a", line=1, call_triggers=phrases(TRIGGERS))
    return Taxonomy(path="t.md", sha256="0" * 64, skus=[sku],
                    conditional_patterns=phrases(["if you {supported, added}"]),
                    negation_before=None if before is None else phrases(before),
                    negation_after=None if after is None else phrases(after),
                    not_conditional=None if polite is None else phrases(polite))


def verdicts(text: str, tax: Taxonomy | None = None) -> list[tuple[str, str | None]]:
    call = Call(account_id="a1", call_id="c1", occurred_at=WHEN, attendees=[DANA],
                transcript=[Utterance(speaker=DANA.name, text=text)])
    return [(m.label, m.reason) for m in RuleExtractor(tax or taxonomy()).extract([call], [])]


SIGNAL, NEGATED, CONDITIONAL = ("signal", None), ("not_signal", "negated"), \
    ("not_signal", "conditional")


# --- sentences ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, count", [
    ("Mr. Alvarez said we need SSO. Next topic.", 2),
    ("Mrs. Lee, Ms. Park and Dr. Brooks agreed. Done.", 2),
    ("Tools (e.g. Okta, i.e. our IdP) matter. Yes.", 2),
    ("Okta vs. Entra etc. are fine. approx. 40 people! Ok", 3),
    ("J. R. Smith signed. Ok", 2),
    ("If the pilot works... we need seats. Then lunch.", 2),
    ("If the pilot works… we need seats. Then lunch.", 2),
    ("One. Two? Three! v2.0 stays. End", 5),
    ("We need it.Now.", 1),  # no whitespace after the full stop: one sentence
])
def test_abbreviations_initials_and_ellipses_do_not_end_a_sentence(text, count):
    spans = sentence_spans(text)
    assert len(spans) == count
    assert "".join(text[a:b] for a, b in spans) == text  # the whole text, verbatim
    assert len(sentence_spans(fold(text))) == count  # folding keeps the boundaries


def test_a_title_or_an_ellipsis_no_longer_cuts_a_condition_from_its_consequence():
    assert verdicts("If Dr. Brooks approves the budget, we need 30 more seats.") == [CONDITIONAL]
    assert verdicts("If the pilot goes well... we need 40 more seats.") == [CONDITIONAL]
    assert verdicts("Dr. Okafor says our security team needs a review. Thanks.") == [SIGNAL]


# --- negation ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Honestly, SAML isn't something we need while we are this small.",  # after-cue
    "We no longer need the audit log since compliance moved.",  # before-cue, two words
    "We ripped out workflow automation in the spring.",
    "We stopped using workflow automation when the budget got cut.",
    "We do not need 20 more seats after all.",
    "We already have SCIM running through Azure AD.",
    "Workflow automation is not a priority this year.",
    "We looked at SAML no, not this year.",  # "no," after: "no" before a comma
])
def test_a_negation_cue_near_the_match_makes_it_negated(text):
    assert verdicts(text) == [NEGATED]


@pytest.mark.parametrize("text, expected", [
    # the cue is in another clause
    ("We don't use Okta on the floor, but we need SCIM for the office.", SIGNAL),
    ("Not today; SAML is the blocker for the rollout.", SIGNAL),
    ("We never liked passwords although SAML is what we need.", SIGNAL),
    # six words between cue and match: outside the window
    ("We never got around to properly discussing SAML.", SIGNAL),
    ("We never got around to discussing SAML.", NEGATED),  # the cue is the fifth word
    # a double negation is a requirement
    ("We can't go live in Ohio without SAML.", SIGNAL),
    ("We could go live in Ohio without SAML.", NEGATED),
    # "cannot" and "no" are not cues by default
    ("We cannot produce an audit log today.", SIGNAL),
])
def test_the_clause_and_the_five_word_window(text, expected):
    assert verdicts(text) == [expected]


def test_one_standing_match_is_enough_and_the_quote_stays_verbatim():
    text = "We dropped SAML last year and now we need SCIM badly."
    call = Call(account_id="a1", call_id="c1", occurred_at=WHEN, attendees=[DANA],
                transcript=[Utterance(speaker=DANA.name, text=text)])
    [m] = RuleExtractor(taxonomy()).extract([call], [])
    assert (m.label, m.trigger, m.quote) == ("signal", "scim", text)


@pytest.mark.parametrize("text, expected", [
    ("Workflow automation? No, we dropped it after the pilot.", [NEGATED]),
    ("Workflow automation? Nope.", [NEGATED]),
    ("Workflow automation? Not really, the team lives in notebooks.", [NEGATED]),
    ("SCIM? Yes, that is the blocker.", [SIGNAL]),
    ("SCIM? Notably for the office staff.", [SIGNAL]),  # "no" must be a whole word
    ("SCIM is the blocker. No, really, it is.", [SIGNAL]),  # not a question
])
def test_a_question_answered_no_in_the_next_sentence_is_negated(text, expected):
    assert verdicts(text) == expected


def test_a_ticket_is_negated_the_same_way():
    ticket = Ticket(account_id="a1", ticket_id="T1", subject="Close the SAML request",
                    body_summary="We no longer need SAML. Please close this.", tags=[],
                    opened_at=WHEN)
    found = RuleExtractor(taxonomy()).extract([], [ticket])
    assert [(m.quote, m.label, m.reason) for m in found] == [
        ("Close the SAML request", "signal", None),
        ("We no longer need SAML.", "not_signal", "negated")]


def test_negative_example_then_negated_then_conditional():
    tax = taxonomy()
    tax.skus[0].negatives = phrases(["we ripped out {x}"])
    assert verdicts("We ripped out workflow automation.", tax) == [
        ("not_signal", "negative-example")]
    assert verdicts("If legal agrees, we do not need SAML.") == [NEGATED]


def test_the_teams_lists_replace_the_defaults():
    mine = taxonomy(before=["ditched"], after=["is history"])
    assert verdicts("We ditched workflow automation.", mine) == [NEGATED]
    assert verdicts("SAML is history for us.", mine) == [NEGATED]
    assert verdicts("We no longer need SAML.", mine) == [SIGNAL]  # default cue gone
    assert verdicts("We ditched workflow automation.") == [SIGNAL]  # not a default cue
    empty = taxonomy(before=[], after=[])
    assert verdicts("We no longer need SAML.", empty) == [SIGNAL]


# --- politeness --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "If I'm honest, our security team needs the SOC 2 letter.",
    "To be honest, we need SCIM before March.",
    "We'd love to add 25 more seats in January.",
    "Would you send pricing for 400 seats before Friday?",
    "Could you get us SCIM by next week, if possible?",
    "We would appreciate it if you could add 12 more seats by Monday.",
    "It would be great to have the audit log in our SIEM.",
])
def test_polite_asks_are_not_conditional(text):
    assert verdicts(text) == [SIGNAL]


@pytest.mark.parametrize("text", [
    "We'd love to add 30 more seats if the budget gets approved.",  # a real "if" remains
    "If you added SCIM we would love it.",  # a guard pattern
    "Would you believe it, we would buy SAML next year.",
    "If I'm honest, if the pilot works we need SAML.",
])
def test_a_marker_outside_the_polite_phrases_still_fires(text):
    assert verdicts(text) == [CONDITIONAL]


def test_the_teams_not_conditional_list_replaces_the_defaults():
    assert verdicts("We'd love to add 25 more seats.", taxonomy(polite=[])) == [CONDITIONAL]
    mine = taxonomy(polite=["if we are being frank"])
    assert verdicts("If we're being frank, we need SAML.", mine) == [SIGNAL]
    assert verdicts("We'd love to add 25 more seats.", mine) == [CONDITIONAL]
    # the Claude verifier's guard applies the same exemptions
    assert not conditional_pattern(taxonomy()).search(fold("We'd love SAML."))
    assert conditional_pattern(taxonomy()).search(fold("We'd buy SAML."))


# --- diagnostics -------------------------------------------------------------------------


def test_negated_matches_are_counted_in_diagnostics_and_run_json(refs):
    from builders import account, call

    from esd.models import Account, Portfolio
    from esd.pipeline import run_pipeline
    from esd.render.digest import run_json

    accounts = [Account.model_validate(account(i), strict=False) for i in ("a1", "a2")]
    calls = [Call.model_validate(call("a1", "c1", [
        ("Dana Lee", "We no longer need SAML. SCIM? No, we dropped it. "
                     "We would buy SAML if it were cheaper. Do you support SSO?")]),
        strict=False)]
    portfolio = Portfolio(accounts=accounts, calls=calls, usage_events=[],
                          tickets=[], stakeholder_changes=[])
    result = run_pipeline(portfolio, refs, as_of=datetime(2026, 11, 23, tzinfo=UTC),
                          cap_per_csm=3)
    d = result.diagnostics
    assert (d.negated_matches, d.conditional_matches, d.negative_matches) == (2, 1, 3)
    assert run_json(result, 3)["diagnostics"]["negated_matches"] == 2
    assert sorted(m["reason"] for m in run_json(result, 3)["not_signal"]) == [
        "conditional", "negated", "negated"]
