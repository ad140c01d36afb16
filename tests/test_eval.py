"""esd eval (esd.extractors.evaluate): the scoring rules on a hand-made portfolio,
label-file errors, and the gold set in examples/gold (its integrity and the rule
extractor's pinned figures)."""

from __future__ import annotations

import json
import re
import runpy
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import CSM, CUSTOMER, account, call, ticket, write_portfolio
from conftest import ROOT, TEST_REFS

from esd.connectors.files import load_portfolio
from esd.errors import InputError
from esd.extractors.eval_report import GoldLabel, format_report
from esd.extractors.evaluate import check_labels, evaluate, gold_labels, load_labels, references_dir
from esd.extractors.prefilter import Prefilter
from esd.extractors.rules import RuleExtractor
from esd.extractors.transcript import turns
from esd.models import Mention
from esd.text import fold, sentence_spans

GOLD = ROOT / "examples" / "gold"
ENT, SEATS, PREM = "enterprise-tier", "additional-team-seats", "premium-feature-pack"
KINDS = {"literal", "paraphrase", "conditional", "negative", "coach", "near_miss", "ticket",
         "negated", "polite", "split"}


class Scripted:
    """An extractor that returns the mentions it was given, and records what it read."""

    name = "scripted"

    def __init__(self, mentions: list[Mention]) -> None:
        self.mentions = mentions
        self.seen: tuple[list, list] | None = None

    def extract(self, calls, tickets, progress=None) -> list[Mention]:
        self.seen = (list(calls), list(tickets))
        return self.mentions


def said(source_id: str, sku: str, quote: str, label: str = "signal") -> Mention:
    return Mention(account_id="a1", sku=sku, source="ticket" if source_id == "t1" else "call",
                   source_id=source_id, quote=quote, trigger="scripted",
                   occurred_at=datetime(2026, 11, 18, tzinfo=UTC), label=label,
                   reason="conditional" if label == "not_signal" else None)


def gold(source_id: str, sku: str, quote: str, label: str = "signal", kind=None) -> GoldLabel:
    return GoldLabel("a1", source_id, sku, label, quote, kind)


# --- a hand-made portfolio: one call, one ticket -----------------------------------------

S1 = "We need 40 more seats for the support team."
S2 = "Our security team needs SAML by March."
S3 = "We would upgrade if you supported SCIM."
S4 = "The SSO page was down on Tuesday."
S5 = "You could add 20 more seats."
T1 = "We keep hitting the API rate limit."


@pytest.fixture
def small(tmp_path, refs):
    folder = write_portfolio(
        tmp_path / "small", [account("a1")],
        calls=[call("a1", "c1", [(CUSTOMER["name"], f"Hello there. {S1}"),
                                 (CUSTOMER["name"], f"{S2} {S3}"),
                                 (CSM["name"], S5),
                                 (CUSTOMER["name"], S4)])],
        tickets=[ticket("a1", "Rate limits", f"{T1} Please help.", ticket_id="t1")])
    labels = [gold("c1", SEATS, S1, kind="literal"), gold("c1", ENT, S2, kind="literal"),
              gold("c1", ENT, S3, "not_signal", "conditional"),
              gold("c1", ENT, S4, "not_signal", "near_miss"),
              gold("c1", SEATS, S5, "not_signal", "coach"),
              gold("t1", PREM, T1, kind="ticket")]
    portfolio = load_portfolio(folder)
    check_labels(labels, portfolio, folder / "labels.json")
    return portfolio, labels, Prefilter(refs.taxonomy)


def test_each_scoring_rule_on_scripted_predictions(small):
    portfolio, labels, prefilter = small
    extractor = Scripted([
        said("c1", SEATS, "need 40 more seats"),  # inside S1: TP
        said("c1", SEATS, "WE NEED 40   more seats for the support team."),  # S1 again
        said("c1", SEATS, "Hello there."),  # no label: FP
        said("t1", ENT, S2),  # right quote, wrong source: FP, and S2 stays FN
        said("c1", PREM, S2),  # right quote, wrong SKU: FP
        said("c1", ENT, S4),  # a near miss flagged signal: FP, leaked
        said("t1", PREM, f"{T1} Please help."),  # holds the ticket label: TP
        said("c1", ENT, S3, "not_signal"),  # guard right
        said("c1", SEATS, S1, "not_signal"),  # guard on a true signal: suppressed
    ])
    report = evaluate(portfolio, labels, extractor, prefilter)

    assert report.extractor == "scripted"
    seats, ent, prem = (report.per_sku[s] for s in (SEATS, ENT, PREM))
    assert (seats.tp, seats.fp, seats.fn, seats.precision, seats.recall) == (1, 1, 0, 0.5, 1.0)
    assert (ent.tp, ent.fp, ent.fn, ent.precision, ent.recall) == (0, 2, 1, 0.0, 0.0)
    assert (prem.tp, prem.fp, prem.fn, prem.precision, prem.recall) == (1, 1, 0, 0.5, 1.0)
    assert (report.overall.tp, report.overall.fp, report.overall.fn) == (2, 4, 1)

    ns = report.not_signal
    # Labels S3, S4, S5: S4 leaked. Verdicts: S3 right, S1 silenced a true signal.
    assert (ns.tp, ns.fn, ns.recall) == (2, 1, pytest.approx(2 / 3))
    assert (ns.predicted, ns.fp, ns.precision) == (2, 1, 0.5)
    assert [g.quote for g in report.leaked] == [S4]
    assert [m.quote for m in report.suppressed] == [S1]
    assert [g.quote for g in report.false_negatives] == [S2]
    assert report.by_kind == {
        "coach": {"labels": 1, "correct": 1, "accuracy": 1.0},
        "conditional": {"labels": 1, "correct": 1, "accuracy": 1.0},
        "literal": {"labels": 2, "correct": 1, "accuracy": 0.5},
        "near_miss": {"labels": 1, "correct": 0, "accuracy": 0.0},
        "ticket": {"labels": 1, "correct": 1, "accuracy": 1.0},
    }
    assert report.labels == 6 and report.predictions == 9


def test_overlap_means_containment_not_shared_words(small):
    portfolio, labels, prefilter = small
    extractor = Scripted([said("c1", SEATS, "the support team needs 40 more seats"),
                          said("c1", SEATS, "support team. Our security")])
    seats = evaluate(portfolio, labels, extractor, prefilter).per_sku[SEATS]
    assert (seats.tp, seats.fp, seats.fn) == (0, 2, 1)


def test_empty_denominators_are_none_not_zero(small):
    portfolio, labels, prefilter = small
    only_not = [g for g in labels if g.label == "not_signal"]
    report = evaluate(portfolio, only_not, Scripted([]), prefilter)
    ent = report.per_sku[ENT]
    assert (ent.tp, ent.fp, ent.fn, ent.precision, ent.recall) == (0, 0, 0, None, None)
    assert report.not_signal.precision is None  # no not_signal verdicts at all
    assert report.not_signal.recall == 1.0
    assert report.overall.precision is None
    out = format_report(report)
    assert "n/a" in out and "100.0%" in out


def test_eval_reads_every_record_whatever_its_date(tmp_path, refs):
    folder = write_portfolio(
        tmp_path / "old", [account("a1")],
        calls=[call("a1", "c1", [(CUSTOMER["name"], S1)], occurred_at="2019-01-01T00:00:00Z"),
               call("a1", "c2", [(CUSTOMER["name"], S2)], occurred_at="2031-01-01T00:00:00Z")],
        tickets=[ticket("a1", "Old", T1, ticket_id="t1", opened_at="2018-05-01T00:00:00Z")])
    portfolio = load_portfolio(folder)
    extractor = Scripted([])
    evaluate(portfolio, [], extractor, Prefilter(refs.taxonomy))
    calls, tickets = extractor.seen
    assert [c.call_id for c in calls] == ["c1", "c2"]
    assert [t.ticket_id for t in tickets] == ["t1"]
    rules = evaluate(portfolio, [gold("c1", SEATS, S1)], RuleExtractor(refs.taxonomy),
                     Prefilter(refs.taxonomy))
    assert rules.per_sku[SEATS].tp == 1


def test_prefilter_recall_leaves_coach_speech_out(tmp_path, refs):
    dull = "The weather in Lisbon was lovely."
    folder = write_portfolio(
        tmp_path / "pf", [account("a1")],
        calls=[call("a1", "c1", [(CUSTOMER["name"], S1), (CUSTOMER["name"], dull),
                                 (CSM["name"], S5)])],
        tickets=[ticket("a1", "Chart colors", "The legend colors are swapped.", ticket_id="t1")])
    portfolio = load_portfolio(folder)
    labels = [gold("c1", SEATS, S1), gold("c1", SEATS, dull, "not_signal"),
              gold("c1", SEATS, S5, "not_signal", "coach")]
    prefilter = Prefilter(refs.taxonomy)
    report = evaluate(portfolio, labels, Scripted([]), prefilter)
    assert report.prefilter_excluded == 1
    assert report.prefilter_scored == 2
    assert report.prefilter_recall == 0.5
    assert report.prefilter_signal_recall == 1.0
    assert [g.quote for g in report.prefilter_missed] == [dull]
    excerpts = [prefilter.call(c) for c in portfolio.calls] + \
        [prefilter.ticket(t) for t in portfolio.tickets]
    kept = sum(e.tokens_kept for e in excerpts)
    total = sum(e.tokens_total for e in excerpts)
    assert total > sum(e.tokens_total for e in excerpts[:1]) > 0  # the ticket counts too
    assert report.token_share == kept / total
    assert 0 < report.token_share < 1


def test_json_and_table(small):
    portfolio, labels, prefilter = small
    report = evaluate(portfolio, labels, Scripted([said("c1", SEATS, S1)]), prefilter)
    data = json.loads(json.dumps(report.to_json()))
    assert {"extractor", "per_sku", "not_signal", "prefilter"} <= set(data)
    assert set(data["per_sku"][SEATS]) >= {"precision", "recall", "tp", "fp", "fn"}
    assert set(data["not_signal"]) >= {"precision", "recall", "tp", "fp", "fn"}
    assert set(data["prefilter"]) >= {"recall", "token_share"}
    assert data["per_sku"][SEATS] == {"precision": 1.0, "recall": 1.0, "tp": 1, "fp": 0,
                                      "fn": 0}
    table = format_report(report, details=True)
    assert re.search(r"additional-team-seats\s+100\.0%\s+100\.0%\s+1\s+0\s+0", table)
    assert "missed signals" in table and S2 in table


# --- labels.json errors ------------------------------------------------------------------


def _labels_file(tmp_path: Path, records) -> Path:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(records))
    return path


GOOD = {"account_id": "a1", "source_id": "c1", "sku": SEATS, "label": "signal", "quote": S1}


@pytest.mark.parametrize(("records", "expected"), [
    ({"not": "a list"}, r"labels\.json: expected a JSON array"),
    ([GOOD, {k: v for k, v in GOOD.items() if k != "quote"}],
     r"labels\.json: record \[1\]: field quote: missing"),
    ([GOOD | {"label": "maybe"}], r'labels\.json: record \[0\]: field label: .*"maybe"'),
    ([GOOD, GOOD, GOOD | {"source_id": ""}],
     r"record \[1\]: field quote: duplicate of record \[0\][\s\S]*"
     r"record \[2\]: field source_id: expected a non-empty string"),
    (["text"], r"record \[0\]: expected an object"),
])
def test_load_labels_names_file_record_and_field(tmp_path, records, expected):
    with pytest.raises(InputError, match=expected):
        load_labels(_labels_file(tmp_path, records))


def test_load_labels_reads_kind_and_rejects_bad_json(tmp_path):
    labels = load_labels(_labels_file(tmp_path, [GOOD | {"kind": "literal"}, GOOD | {
        "sku": ENT}]))
    assert labels == [GoldLabel("a1", "c1", SEATS, "signal", S1, "literal"),
                      GoldLabel("a1", "c1", ENT, "signal", S1, None)]
    (tmp_path / "labels.json").write_text("[{")
    with pytest.raises(InputError, match=r"labels\.json: malformed JSON"):
        load_labels(tmp_path / "labels.json")
    with pytest.raises(InputError, match=r"nowhere\.json: labels file not found"):
        load_labels(tmp_path / "nowhere.json")


@pytest.mark.parametrize(("label", "expected"), [
    (gold("nope", SEATS, S1), r"record \[1\] \(source_id nope\): field source_id"),
    (gold("c1", SEATS, "We need 41 more seats."), r"record \[1\] \(source_id c1\): field quote"),
    (GoldLabel("a2", "t1", PREM, "signal", T1), r"record \[1\] \(source_id t1\): field account_id"),
    (gold("c1", "gold-plating", S1), r"record \[1\] \(source_id c1\): field sku"),
])
def test_check_labels_names_file_record_and_field(small, tmp_path, label, expected):
    portfolio, labels, _ = small
    path = tmp_path / "labels.json"
    with pytest.raises(InputError, match=r"labels\.json: " + expected):
        check_labels([labels[0], label], portfolio, path, skus=[ENT, SEATS, PREM])


def test_check_labels_normalises_whitespace_only(small, tmp_path):
    portfolio, _, _ = small
    path = tmp_path / "labels.json"
    check_labels([gold("c1", SEATS, "We  need 40\nmore seats for the support team.")],
                 portfolio, path)
    with pytest.raises(InputError, match="field quote"):
        check_labels([gold("c1", SEATS, S1.upper())], portfolio, path)


def test_gold_folder_helpers(tmp_path):
    assert references_dir(GOLD, tmp_path) == tmp_path  # examples/gold has no references/
    (tmp_path / "references").mkdir()
    assert references_dir(tmp_path, GOLD) == tmp_path / "references"


# --- the gold set ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold_set():
    from esd.references import load_references

    refs = load_references(TEST_REFS)
    portfolio = load_portfolio(GOLD)
    labels = gold_labels(GOLD, portfolio, [s.id for s in refs.taxonomy.skus])
    report = evaluate(portfolio, labels, RuleExtractor(refs.taxonomy), Prefilter(refs.taxonomy))
    return portfolio, labels, report


def test_committed_gold_files_are_what_the_generator_writes():
    render = runpy.run_path(str(GOLD / "build_gold.py"), run_name="build_gold")["render"]
    rendered = render()
    assert sorted(rendered) == ["accounts.json", "calls.json", "labels.json",
                                "support_tickets.json", "usage_events.json"]
    for name, text in rendered.items():
        assert (GOLD / name).read_text(encoding="utf-8") == text, name
    assert render() == rendered


def test_gold_set_size_kinds_and_balance(gold_set):
    _, labels, _ = gold_set
    assert len(labels) >= 80
    assert {g.kind for g in labels} == KINDS
    for sku in (ENT, SEATS, PREM):
        assert {g.label for g in labels if g.sku == sku} == {"signal", "not_signal"}
    for kind in ("literal", "paraphrase", "conditional", "negative", "coach", "near_miss"):
        assert {g.sku for g in labels if g.kind == kind} == {ENT, SEATS, PREM}, kind
    assert {g.label for g in labels if g.kind in ("literal", "paraphrase", "polite")} \
        == {"signal"}
    assert {g.label for g in labels
            if g.kind not in ("literal", "paraphrase", "ticket", "polite", "split")} \
        == {"not_signal"}
    assert {g.label for g in labels if g.kind == "split"} == {"signal", "not_signal"}
    # every not_signal label of a guarded kind names the reason that should catch it
    expected = {"conditional": "conditional", "negative": "negative-example",
                "negated": "negated"}
    assert all(g.reason == expected[g.kind] for g in labels if g.kind in expected)
    assert {g.reason for g in labels if g.label == "signal"} == {None}


def test_every_gold_quote_is_one_sentence_said_by_the_right_side(gold_set):
    portfolio, labels, _ = gold_set
    units: dict[str, list[tuple[str, bool | None]]] = {}  # source -> (text, customer?)
    for c in portfolio.calls:
        units[c.call_id] = [(t.text, t.speaker.is_customer if t.speaker else None)
                            for t in turns(c)]
    for t in portfolio.tickets:
        units[t.ticket_id] = [(t.subject, True), (t.body_summary, True)]
    for g in labels:
        where = [customer for text, customer in units[g.source_id]
                 if g.quote in [text[s:e].strip() for s, e in sentence_spans(text)]]
        assert len(where) == 1, g
        assert where[0] is (g.kind != "coach"), g


def test_gold_signals_carry_no_conditional_marker(gold_set):
    _, labels, _ = gold_set
    marker = re.compile(r"\b(if|would|considering|thinking about)\b")
    signals = [g for g in labels if g.label == "signal" and g.kind not in ("polite", "split")]
    assert signals and not [g.quote for g in signals if marker.search(fold(g.quote))]
    assert len([g for g in labels if g.kind == "conditional"
                and marker.search(fold(g.quote))]) == 12
    # polite asks carry a marker on purpose: the Not conditional list must spare them
    polite = [g for g in labels if g.kind == "polite"]
    assert len(polite) == 6
    assert [g.quote for g in polite if not marker.search(fold(g.quote))] == [
        "To be honest, we need FedRAMP-level controls before the state contract in March."]


def test_rule_extractor_figures_on_gold(gold_set):
    """Pinned, and why. Signal labels: seats 20, enterprise 27, premium 17.

    Issue 13 added four calls and two tickets: the negation guard catches 9 of the 10
    labels naming `negated` (it misses "we asked you to add 10 more seats and that got
    sorted": no cue) and the HIPAA-"doesn't apply" near miss; the Not conditional list
    spares all six polite asks; no title, abbreviation or ellipsis splits a sentence.
    A ticket subject "Close the SAML request" has no cue and stays a false positive.
    Before issue 13 the same code scored seats (8, 4, 12), enterprise (17, 12, 10),
    premium (9, 11, 8) and not_signal precision 15 of 20 on this gold set.

    - Rules find every literal (6 + 8 + 6) and no paraphrase (0 of 7 + 7 + 6): paraphrases
      hold no trigger phrase by construction. In tickets they find the bodies' trigger
      phrases (seats 2 of 4, enterprise 4 of 5, premium 2 of 3) but no subject without a
      phrase ("New team onboarding"; subject triggers are ticket triggers, not extraction).
    - False positives are near misses and negative paraphrases that hold a trigger
      (seats: an expired invite; enterprise: an audit-log bug twice in a ticket and once on
      a call, a SOC 2 audit of their own, "HIPAA doesn't apply", "no SAML changes";
      premium: "does X support Y" on CSV delimiters, dark mode and SCIM, "overkill", and a
      workflow-automation trial whose negative phrase is one word too long for its slot).
    - not_signal: 12 of 52 labels leak (exactly the labeled false positives above); the
      guard's 14 verdicts (8 conditional, 6 negative examples) never silence a true signal.
    """
    _, labels, report = gold_set
    figures = {sku: (s.tp, s.fp, s.fn) for sku, s in report.per_sku.items()}
    assert figures == {SEATS: (11, 2, 9), ENT: (19, 6, 8), PREM: (10, 6, 7)}
    assert report.per_sku[ENT].precision == pytest.approx(19 / 25)
    assert report.per_sku[ENT].recall == pytest.approx(19 / 27)
    ns = report.not_signal
    assert (ns.tp, ns.fp, ns.fn, ns.predicted) == (54, 0, 12, 28)
    assert (ns.precision, ns.recall) == (1.0, pytest.approx(54 / 66))
    reasons = {r: (s.tp, s.fp, s.fn, s.predicted) for r, s in report.per_reason.items()}
    assert reasons == {"conditional": (11, 0, 4, 12), "negated": (9, 0, 1, 10),
                       "negative-example": (5, 0, 8, 6)}
    assert report.per_reason["negated"].recall == pytest.approx(9 / 10)
    assert {kind: e["correct"] for kind, e in report.by_kind.items()} == {
        "coach": 8, "conditional": 12, "literal": 23, "near_miss": 6, "negated": 8,
        "negative": 11, "paraphrase": 0, "polite": 6, "split": 5, "ticket": 15}
    # "Does Lumen support SCIM" and the ticket subject "Close the SAML request"
    assert len(report.false_positives) - len(report.leaked) == 2


def test_prefilter_leaves_out_only_coach_speech_on_gold(gold_set):
    _, labels, report = gold_set
    assert report.prefilter_excluded == sum(g.kind == "coach" for g in labels) == 8
    assert report.prefilter_scored == len(labels) - 8
    assert 0 < report.token_share < 1


def test_prefilter_keeps_every_labeled_customer_sentence_of_gold(gold_set):
    _, _, report = gold_set
    assert [g.quote for g in report.prefilter_missed] == []
    assert report.prefilter_recall == 1.0


def test_esd_eval_json_has_the_contracts_keys_and_bad_labels_exit_2(tmp_path):
    from typer.testing import CliRunner

    from esd.cli import app

    result = CliRunner().invoke(app, ["eval", "--gold", str(GOLD), "--references",
                                      str(TEST_REFS), "--extractor", "rules",
                                      "--json"], env={"ANTHROPIC_API_KEY": ""})
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"extractor", "per_sku", "not_signal", "prefilter"} <= set(data)
    assert data["extractor"] == "rules" and set(data["prefilter"]) >= {"recall", "token_share"}
    assert data["per_sku"]["enterprise-tier"]["precision"] == pytest.approx(19 / 25)
    assert data["per_reason"]["negated"] == {"precision": 1.0, "recall": 0.9, "tp": 9,
                                             "fp": 0, "fn": 1, "predicted": 10}

    bad = tmp_path / "gold"
    shutil.copytree(GOLD, bad)
    labels = json.loads((bad / "labels.json").read_text())
    labels[3]["label"] = "maybe"
    (bad / "labels.json").write_text(json.dumps(labels))
    result = CliRunner().invoke(app, ["eval", "--gold", str(bad), "--references",
                                      str(TEST_REFS), "--extractor", "rules"])
    assert result.exit_code == 2
    assert "labels.json: record [3]" in result.output and "field label" in result.output
