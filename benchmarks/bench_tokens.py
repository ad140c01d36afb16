"""Input tokens and dollars of Claude extraction for a 200-account week: the seed's
method against esd's.

- **Seed method**: one extraction request per transcript and per ticket, each carrying
  the whole text (every speaker) after the same system prompt (instructions plus the
  taxonomy), as seed 000's "Cost reality" counts it.
- **esd**: `ClaudeExtractor` as `esd run` uses it (prefilter, many sources per request,
  the taxonomy part of the prompt cached, Message Batches), sent to the fake Anthropic
  API of tests/fakes over real HTTP on 127.0.0.1. Its tokens and dollars are counted
  from the usage the fake reports for the requests actually sent, at list prices. A
  second run of the same week answers from the result cache.

Tokens are estimated at four characters each, both sides (no Claude tokenizer runs
offline); the ratio does not depend on that constant. Output: the fake answers as an
oracle (`oracle`): the planted signals and near-misses it is sent, nothing else.

Three weeks are measured: the demo portfolio (calls of 300-700 words, about 700 tokens),
a generated 200-account week with calls of ~4,500 words (~6,000 tokens, the seed's own
assumption), and an "ordinary talk" week of the same size (benchmarks/ordinary_week.py).
Then the prefilter options side by side on both 200-account weeks (OPTIONS: broad or
sharp lexicon, with or without a Haiku-class screen), with their recall on
tests/data/holdout_v2.json. Targets (issue 13): at least 10x fewer input tokens, recall
at least 95% on the held-out set and at most $0.35 a week on both 200-account weeks.

    python benchmarks/bench_tokens.py [--model claude-sonnet-5-5]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "examples"), str(ROOT / "benchmarks")]

from fakes.anthropic import KEY, FakeAnthropic, sources  # noqa: E402
from fakes.server import serving  # noqa: E402
from generate_portfolio import build_portfolio  # noqa: E402
from ordinary_week import NEAR_MISSES, SIGNALS, ordinary_week, patterns  # noqa: E402

from esd.app.settings import parse_as_of  # noqa: E402
from esd.connectors.files import load_portfolio  # noqa: E402
from esd.extractors.claude import prompt, screen  # noqa: E402
from esd.extractors.claude.client import ClaudeClient  # noqa: E402
from esd.extractors.claude.cost import DEFAULT_MODEL, Usage, prices_for  # noqa: E402
from esd.extractors.claude.extractor import ClaudeExtractor, MemoryCache  # noqa: E402
from esd.extractors.evaluate import evaluate, gold_labels  # noqa: E402
from esd.extractors.prefilter import Prefilter, estimate_tokens  # noqa: E402
from esd.extractors.rules import RuleExtractor, compile_any  # noqa: E402
from esd.models import Portfolio  # noqa: E402
from esd.pipeline import make_window  # noqa: E402
from esd.pipeline.collect import collect  # noqa: E402
from esd.references import load_references  # noqa: E402
from esd.text import fold  # noqa: E402

AS_OF = "2026-11-23"
SCREEN_MODEL = "claude-haiku-4-5"


def week(portfolio: Portfolio):
    collected = collect(portfolio, make_window(parse_as_of(AS_OF), 7))
    return collected.calls, collected.tickets


def seed_tokens(calls, tickets, system_tokens: int) -> tuple[int, int]:
    """(requests, input tokens) of one request per whole transcript and ticket."""
    texts = []
    for c in calls:
        if c.transcript is not None:
            texts.append("\n".join(f"{u.speaker}: {u.text}" for u in c.transcript))
        else:
            texts.append(c.transcript_text or "")
    texts += [f"{t.subject}\n{t.body_summary}" for t in tickets]
    return len(texts), sum(system_tokens + estimate_tokens(t) for t in texts)


def oracle(taxonomy):
    """The fake's answers, as a perfect reader would give them: the main model names
    each planted signal (the ordinary week's SIGNALS, or a taxonomy call trigger) and
    each near-miss (NEAR_MISSES, or a negative example) it was sent; the screen flags
    the same sentences by number."""
    triggers = compile_any(p for sku in taxonomy.skus for p in sku.call_triggers)
    negatives = compile_any(p for sku in taxonomy.skus for p in sku.negatives)
    signals, misses = patterns(SIGNALS), patterns(NEAR_MISSES)

    def label(sentence: str) -> str | None:
        if any(p.fullmatch(sentence.strip()) for p in signals) or (
                triggers and triggers.search(fold(sentence))):
            return "signal"
        if any(p.fullmatch(sentence.strip()) for p in misses) or (
                negatives and negatives.search(fold(sentence))):
            return "not_signal"
        return None

    def respond(params):
        if params["tool_choice"]["name"] == screen.TOOL_NAME:
            text = params["messages"][0]["content"]
            return [{"source": ref, "sentence": int(n)}
                    for ref, body in re.findall(r'<source ref="(s\d+)">\n(.*?)</source>',
                                                text, re.DOTALL)
                    for n, line in re.findall(r"^\[(\d+)\] (.*)$", body, re.MULTILINE)
                    if label(html.unescape(line))]
        out = []
        for ref, lines in sources(params).items():
            for speaker, text in lines:
                for sentence in re.split(r"(?<=[.!?])\s+", text):
                    if found := label(sentence):
                        out.append({"source": ref, "sku": "additional-team-seats",
                                    "quote": sentence, "speaker": speaker, "label": found,
                                    "reason": "none", "why": "benchmark"})
        return out
    return respond


OPTIONS = {  # name: (lexicon, screen model)
    "today: broad lexicon": ("broad", None),
    "(a) sharp lexicon": ("sharp", None),
    "(b) Haiku screen of every sentence": ("all", SCREEN_MODEL),
    "(c) sharp lexicon, then Haiku screen": ("sharp", SCREEN_MODEL),
}


def measure(name: str, portfolio: Portfolio, refs, model: str, fake: FakeAnthropic,
            lexicon: str = "sharp", screen_model: str | None = None) -> dict:
    calls, tickets = week(portfolio)
    taxonomy = refs.taxonomy
    system_tokens = estimate_tokens(prompt.system_text(taxonomy)
                                    + json.dumps(prompt.tool(taxonomy)))
    seed_requests, seed_in = seed_tokens(calls, tickets, system_tokens)
    prices = prices_for(model)
    cache = MemoryCache()
    runs = []
    for _ in range(2):  # the second run of the same week: the result cache answers
        fake.reset()
        fake.responder = oracle(taxonomy)
        client = ClaudeClient(KEY, fake.url, poll_interval=0.001)
        screen_client = (ClaudeClient(KEY, fake.url, poll_interval=0.001,
                                      tool_name=screen.TOOL_NAME) if screen_model else None)
        extractor = ClaudeExtractor(
            taxonomy, client, model=model, prices=prices, cache=cache, lexicon=lexicon,
            screen_model=screen_model, screen_client=screen_client,
            screen_prices=prices_for(screen_model) if screen_model else None)
        try:
            extractor.extract(calls, tickets)
        finally:
            extractor.close()
        runs.append(extractor.report)
    first = runs[0]
    ours_in = first.input_tokens + first.cache_write_tokens + first.cache_read_tokens
    # The seed's output: at least what our requests produced (same mentions).
    seed_usd = Usage(input_tokens=seed_in, output_tokens=first.output_tokens).cost(prices)
    return {"week": name, "calls": len(calls), "tickets": len(tickets),
            "seed_requests": seed_requests, "seed_input": seed_in, "seed_usd": seed_usd,
            "requests": first.requests, "sources_sent": first.sources_sent,
            "input": ours_in, "cache_read": first.cache_read_tokens,
            "output": first.output_tokens, "usd": first.cost_usd,
            "ratio": seed_in / ours_in if ours_in else float("inf"),
            "rerun_requests": runs[1].requests, "rerun_usd": runs[1].cost_usd}


def holdout_recall(refs, lexicon: str, screened: bool) -> str:
    """Share of tests/data/holdout_v2.json's signals that reach the main model. A
    screen's own recall cannot be measured offline (the fake is an oracle)."""
    rows = json.loads((ROOT / "tests" / "data" / "holdout_v2.json").read_text())
    prefilter = Prefilter(refs.taxonomy, lexicon=lexicon)
    signals = [r["text"] for r in rows if r["label"] == "signal"]
    kept = sum(map(prefilter.is_expansion_shaped, signals))
    return f"{kept}/{len(signals)} ({kept / len(signals):.0%})" + (
        " x the screen's recall" if screened else "")


def gold_prefilter(refs) -> tuple[float | None, float | None]:
    portfolio = load_portfolio(ROOT / "examples" / "gold")
    labels = gold_labels(ROOT / "examples" / "gold", portfolio)
    report = evaluate(portfolio, labels, RuleExtractor(refs.taxonomy), Prefilter(refs.taxonomy))
    return report.prefilter_recall, report.token_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()

    demo_refs = load_references(ROOT / "examples" / "portfolio" / "references")
    repo_refs = load_references(ROOT / "references")
    fake = FakeAnthropic()
    weeks = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, files in (("benchmark", build_portfolio(200, seed=7,
                                                           transcript_words=4500)),
                             ("ordinary", ordinary_week(200))):
            (Path(folder) / label).mkdir()
            for name, records in files.items():
                (Path(folder) / label / f"{name}.json").write_text(json.dumps(records))
            weeks[label] = load_portfolio(Path(folder) / label)
    with serving(fake):
        rows = [measure("demo week (examples/portfolio)",
                        load_portfolio(ROOT / "examples" / "portfolio"), demo_refs, args.model,
                        fake),
                measure("200 accounts, ~6,000-token calls", weeks["benchmark"], repo_refs,
                        args.model, fake),
                measure("200 accounts, ~6,000-token calls of ordinary talk",
                        weeks["ordinary"], repo_refs, args.model, fake)]
        options = [(name, holdout_recall(repo_refs, lexicon, bool(screen_model)),
                    [measure(label, weeks[label], repo_refs, args.model, fake, lexicon,
                             screen_model) for label in weeks])
                   for name, (lexicon, screen_model) in OPTIONS.items()]
    recall, share = gold_prefilter(repo_refs)

    print(f"model {args.model}, list prices, tokens estimated at 4 characters each\n")
    print("| week | calls + tickets | seed: requests / input tokens / $ | esd: requests / "
          "input tokens (cache reads) / output / $ | fewer input tokens | rerun |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['week']} | {r['calls']} + {r['tickets']} | {r['seed_requests']} / "
              f"{r['seed_input']:,} / ${r['seed_usd']:.2f} | {r['requests']} / "
              f"{r['input']:,} ({r['cache_read']:,}) / {r['output']:,} / ${r['usd']:.3f} | "
              f"{r['ratio']:.0f}x | {r['rerun_requests']} requests, ${r['rerun_usd']:.2f} |")
    print(f"\nprefilter on examples/gold: recall {recall:.0%}, customer tokens kept "
          f"{share:.1%}\n")
    print(f"| option (main model {args.model}, screen {SCREEN_MODEL}) | holdout_v2 recall "
          "| benchmark week: input tokens / $ | ordinary week: input tokens / $ |")
    print("|---|---|---|---|")
    for name, recall_text, (bench, ordinary) in options:
        print(f"| {name} | {recall_text} | {bench['input']:,} / ${bench['usd']:.3f} | "
              f"{ordinary['input']:,} / ${ordinary['usd']:.3f} |")


if __name__ == "__main__":
    main()
