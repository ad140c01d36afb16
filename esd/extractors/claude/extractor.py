"""`ClaudeExtractor`: the seed's extraction prompt, at a fraction of its cost.

For each call and ticket of the window:

1. the rule extractor runs as always (the team's literal phrases, with the guards);
2. the prefilter keeps the customer sentences around anything expansion-shaped; a
   source with none is not sent at all;
3. a source whose exact text was answered before (same prompt, same model) takes its
   answer from the result cache in the state database;
4. the rest are packed into requests (many sources each, the taxonomy part of the
   prompt cached) and sent through the Message Batches API (half price), or directly
   with `--no-batch`; `--max-cost` refuses to send anything when the estimate is over;
5. every answer is verified (`esd.extractors.claude.verify`) and merged with the rule mentions: on
   a sentence the rules matched, the rule mention stands; the model adds the rest.

If the model keeps failing, the run fails with exit 4, or, with
`--extractor-fallback rules`, finishes on the rule mentions alone and every digest says
so (the report's `fallback`).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from esd.errors import BudgetExceeded, SourceError
from esd.extractors.base import Progress
from esd.extractors.claude import prompt, screen
from esd.extractors.claude.client import ClaudeClient, Reply
from esd.extractors.claude.cost import Prices, Usage
from esd.extractors.claude.verify import Verifier, normalise
from esd.extractors.prefilter import Excerpt, Lexicon, Prefilter, estimate_tokens
from esd.extractors.rules import RuleExtractor
from esd.models import Call, ExtractionReport, Mention, Ticket
from esd.references.schema import Taxonomy

log = logging.getLogger("esd.claude")

# A request carries up to this many sources or this much source text (estimated
# tokens): enough to make the cached prompt pay off, small enough that the answer
# stays far below max_tokens.
SOURCES_PER_REQUEST = 24
TOKENS_PER_REQUEST = 6000
MAX_TOKENS = 4096
# Output estimate: about one mention per expansion-shaped sentence, plus the call.
OUTPUT_PER_HIT = 80
OUTPUT_PER_REQUEST = 20


class ResultCache(Protocol):
    def cached_answers(self, keys: Sequence[str]) -> dict[str, list]: ...

    def store_answers(self, answers: dict[str, list], model: str) -> None: ...


class MemoryCache:
    """A result cache for one process (eval, tests)."""

    def __init__(self) -> None:
        self.answers: dict[str, list] = {}

    def cached_answers(self, keys: Sequence[str]) -> dict[str, list]:
        return {k: self.answers[k] for k in keys if k in self.answers}

    def store_answers(self, answers: dict[str, list], model: str) -> None:
        self.answers.update(answers)


@dataclass(frozen=True)
class Estimate:
    requests: int
    sources: int  # sources that would be sent
    sources_cached: int
    input_tokens: int
    output_tokens: int
    usd: float


@dataclass
class _Plan:
    excerpts: list[Excerpt]  # every source with something expansion-shaped
    keys: list[str]
    cached: dict[str, list]
    groups: list[list[int]]  # indexes into excerpts, per request to send
    skipped: int


class ClaudeExtractor:
    """An `Extractor` (esd.extractors.base) backed by Claude."""

    name = "claude"

    def __init__(self, taxonomy: Taxonomy, client: ClaudeClient, *, model: str,
                 prices: Prices, cache: ResultCache | None = None, batch: bool = True,
                 max_cost: float | None = None, fallback: str | None = None,
                 lexicon: Lexicon = "sharp", screen_model: str | None = None,
                 screen_client: ClaudeClient | None = None,
                 screen_prices: Prices | None = None) -> None:
        self.taxonomy = taxonomy
        self.client = client
        self.model = model
        self.prices = prices
        self.cache = cache if cache is not None else MemoryCache()
        self.batch = batch
        self.max_cost = max_cost
        self.fallback = fallback
        self.prefilter = Prefilter(taxonomy, lexicon=lexicon)
        # The optional cheap first pass (esd.extractors.claude.screen).
        self.screen_model = screen_model
        self.screen_client = screen_client
        self.screen_prices = screen_prices
        self.screen_usage = Usage()
        self.screen_cost = 0.0
        self.screen_requests = 0
        if screen_model and (screen_client is None or screen_prices is None):
            raise ValueError("a screen model needs its own client and prices")
        self.rules = RuleExtractor(taxonomy)
        self._verifier = Verifier(taxonomy)
        self._fingerprint = prompt.fingerprint(model, taxonomy)
        self._system_tokens = estimate_tokens(
            prompt.system_text(taxonomy) + json.dumps(prompt.tool(taxonomy)))
        self.report = ExtractionReport(extractor="claude", model=model, batch=batch)

    def close(self) -> None:
        self.client.close()
        if self.screen_client is not None:
            self.screen_client.close()

    # --- planning and the budget ----------------------------------------------------

    def _plan(self, calls: Sequence[Call], tickets: Sequence[Ticket]) -> _Plan:
        every = [*map(self.prefilter.call, calls), *map(self.prefilter.ticket, tickets)]
        return self._plan_excerpts([e for e in every if e.kept], len(every))

    def _plan_excerpts(self, excerpts: list[Excerpt], every: int) -> _Plan:
        keys = [prompt.cache_key(self._fingerprint, e) for e in excerpts]
        cached = self.cache.cached_answers(keys)
        todo = [i for i, k in enumerate(keys) if k not in cached]
        # One request per distinct text: two sources with the same text share an answer.
        first: dict[str, int] = {}
        for i in todo:
            first.setdefault(keys[i], i)
        groups: list[list[int]] = []
        size = 0
        for i in first.values():
            tokens = estimate_tokens(prompt.render_source("s", excerpts[i]))
            if not groups or len(groups[-1]) >= SOURCES_PER_REQUEST or (
                    size + tokens > TOKENS_PER_REQUEST and groups[-1]):
                groups.append([])
                size = 0
            groups[-1].append(i)
            size += tokens
        return _Plan(excerpts, keys, cached, groups, every - len(excerpts))

    def _estimate(self, plan: _Plan) -> Estimate:
        """A cautious estimate: the prompt priced as a cache write in every request (no
        cache hit assumed), and a mention's worth of output per expansion-shaped
        sentence."""
        data = sum(estimate_tokens(prompt.render_source("s", plan.excerpts[i]))
                   for group in plan.groups for i in group)
        hits = sum(len(u.hits) for group in plan.groups for i in group
                   for u in plan.excerpts[i].units)
        prompt_tokens = len(plan.groups) * self._system_tokens
        tokens_in = data + prompt_tokens + len(plan.groups) * 60
        tokens_out = hits * OUTPUT_PER_HIT + len(plan.groups) * OUTPUT_PER_REQUEST
        usd = Usage(input_tokens=tokens_in - prompt_tokens, cache_write_tokens=prompt_tokens,
                    output_tokens=tokens_out).cost(self.prices, batch=self.batch)
        if self.screen_model and self.screen_prices is not None:
            # The screen reads all of it; the main model is priced as if it flagged all.
            screen_in = data + len(plan.groups) * (self._system_tokens // 2)
            tokens_in += screen_in
            tokens_out += hits * 8
            usd += Usage(input_tokens=screen_in, output_tokens=hits * 8).cost(
                self.screen_prices, batch=self.batch)
        sent = sum(len(g) for g in plan.groups)
        cached = sum(1 for k in plan.keys if k in plan.cached)
        return Estimate(len(plan.groups), sent, cached, tokens_in, tokens_out, usd)

    def estimate(self, calls: Sequence[Call], tickets: Sequence[Ticket]) -> Estimate:
        """What extracting these sources would cost now (cached sources are free)."""
        return self._estimate(self._plan(calls, tickets))

    # --- the Extractor protocol -------------------------------------------------------

    def extract(self, calls: Sequence[Call], tickets: Sequence[Ticket],
                progress: Progress | None = None) -> list[Mention]:
        literal = self.rules.extract(calls, tickets)
        plan = self._plan(calls, tickets)
        estimate = self._estimate(plan)
        self.report.estimate_usd = round(estimate.usd, 4)
        self.report.sources = len(calls) + len(tickets)
        self.report.sources_skipped = plan.skipped
        if self.max_cost is not None and estimate.usd > self.max_cost:
            raise BudgetExceeded(
                f"--max-cost {self.max_cost:g}: Claude extraction of this run is "
                f"estimated at ${estimate.usd:.2f} ({estimate.requests} requests, "
                f"~{estimate.input_tokens:,} input tokens); nothing was sent. Raise "
                "--max-cost, or run with --extractor rules.", source="anthropic")
        try:
            if self.screen_model:
                plan = self._plan_excerpts(self._screened(plan.excerpts),
                                           len(calls) + len(tickets))
                self.report.sources_skipped = plan.skipped
            answers = self._answers(plan, progress)
        except SourceError as exc:
            if self.fallback != "rules":
                raise
            log.warning("Claude extraction failed, finishing on the rule extractor: %s", exc)
            self.report.fallback = str(exc)
            self.report.extractor = "rules"
            return literal
        dropped = Counter(self.report.dropped)
        checked = [m for excerpt, key in zip(plan.excerpts, plan.keys, strict=True)
                   for raw in answers.get(key, [])
                   if (m := self._verifier.check(raw, excerpt, dropped)) is not None]
        self.report.dropped = dict(sorted(dropped.items()))
        return merge(literal, checked)

    # --- sending ------------------------------------------------------------------

    def _answers(self, plan: _Plan, progress: Progress | None) -> dict[str, list]:
        """Cached answers plus fresh ones. Each reply is cached the moment it arrives, so
        a run that fails halfway has paid for its answers once: the rerun sends only
        what is still missing. The cost so far is reported even when it fails."""
        answers = dict(plan.cached)
        self.report.sources_cached = sum(1 for k in plan.keys if k in plan.cached)
        if progress:
            progress.advance(self.report.sources - sum(len(g) for g in plan.groups))
        if not plan.groups:
            if self.screen_model:  # the screen was paid for all the same
                self._account(Usage(), Usage(), 0, 0)
            return answers
        requests = {f"r{n}": self._params(plan, group) for n, group in enumerate(plan.groups)}
        before = self.client.requests_sent
        # Every billed answer counts, the malformed and cut-off ones too: the client
        # adds each answer's usage up as it arrives (`billed`).
        billed = dict(self.client.billed)
        try:
            retry = list(requests)
            if self.batch:
                replies, retry = self.client.send_batch(requests)
                for custom_id, reply in replies.items():
                    answers.update(self._keep(plan, custom_id, reply, progress))
            for custom_id in retry:
                reply = self.client.send(requests[custom_id])
                answers.update(self._keep(plan, custom_id, reply, progress))
        finally:
            self._account(self.client.billed["batch"] - billed["batch"],
                          self.client.billed["direct"] - billed["direct"],
                          self.client.requests_sent - before,
                          sum(len(g) for g in plan.groups))
        return answers

    def _screened(self, excerpts: list[Excerpt]) -> list[Excerpt]:
        """The excerpts narrowed to what the screen model flags (cached like answers)."""
        assert self.screen_model and self.screen_client and self.screen_prices
        model, client = self.screen_model, self.screen_client
        keys = [screen.cache_key(model, self.taxonomy, e) for e in excerpts]
        flags = self.cache.cached_answers(keys)
        todo = list(dict.fromkeys(k for k in keys if k not in flags))
        first = {k: keys.index(k) for k in todo}
        groups: list[list[str]] = []
        size = 0
        for k in todo:
            tokens = estimate_tokens(screen.render("s", excerpts[first[k]]))
            if not groups or len(groups[-1]) >= screen.SOURCES_PER_REQUEST or (
                    size + tokens > screen.TOKENS_PER_REQUEST):
                groups.append([])
                size = 0
            groups[-1].append(k)
            size += tokens
        requests = {f"q{n}": screen.request_params(model, self.taxonomy, [
            screen.render(f"s{j + 1}", excerpts[first[k]]) for j, k in enumerate(group)])
            for n, group in enumerate(groups)}
        billed, before = dict(client.billed), client.requests_sent
        try:
            retry = list(requests)
            if self.batch and requests:
                replies, retry = client.send_batch(requests)
            else:
                replies = {}
            for custom_id in retry:
                replies[custom_id] = client.send(requests[custom_id])
            for custom_id, reply in replies.items():
                group = groups[int(custom_id[1:])]
                by_ref: dict[str, list] = {f"s{j + 1}": [] for j in range(len(group))}
                for raw in reply.mentions:
                    ref = raw.get("source") if isinstance(raw, dict) else None
                    if ref in by_ref:
                        by_ref[ref].append(raw)
                fresh = {k: by_ref[f"s{j + 1}"] for j, k in enumerate(group)}
                self.cache.store_answers(fresh, model)
                flags.update(fresh)
        finally:
            batch_usage = client.billed["batch"] - billed["batch"]
            direct_usage = client.billed["direct"] - billed["direct"]
            self.screen_usage = batch_usage + direct_usage
            self.screen_requests = client.requests_sent - before
            self.screen_cost = (batch_usage.cost(self.screen_prices, batch=True)
                                + direct_usage.cost(self.screen_prices))
        trust = self.prefilter.lexicon == "all"
        narrowed = [screen.narrow(e, screen.flags_of(flags.get(k, []),
                                                     len(screen.numbered(e))),
                                  self.prefilter.context, trust)
                    for e, k in zip(excerpts, keys, strict=True)]
        return [e for e in narrowed if e.kept]

    def _keep(self, plan: _Plan, custom_id: str, reply: Reply,
              progress: Progress | None) -> dict[str, list]:
        """One reply's answers by source key, cached at once."""
        group = plan.groups[int(custom_id[1:])]
        by_ref: dict[str, list] = {f"s{j + 1}": [] for j in range(len(group))}
        for raw in reply.mentions:
            ref = raw.get("source") if isinstance(raw, dict) else None
            if ref in by_ref:
                by_ref[ref].append({k: v for k, v in raw.items() if k != "source"})
            else:
                self.report.dropped["unknown-source"] = (
                    self.report.dropped.get("unknown-source", 0) + 1)
        fresh = {plan.keys[i]: by_ref[f"s{j + 1}"] for j, i in enumerate(group)}
        self.cache.store_answers(fresh, self.model)
        if progress:
            progress.advance(len(group))
        return fresh

    def _params(self, plan: _Plan, group: list[int]) -> dict:
        blocks = [prompt.render_source(f"s{j + 1}", plan.excerpts[i])
                  for j, i in enumerate(group)]
        return prompt.request_params(self.model, self.taxonomy, blocks, MAX_TOKENS)

    def _account(self, batch_usage: Usage, direct_usage: Usage, requests: int,
                 sent: int) -> None:
        total = batch_usage + direct_usage
        report = self.report
        report.requests = requests + self.screen_requests
        report.sources_sent = sent
        report.input_tokens = total.input_tokens
        report.cache_write_tokens = total.cache_write_tokens
        report.cache_read_tokens = total.cache_read_tokens
        report.output_tokens = total.output_tokens
        report.cost_usd = round(batch_usage.cost(self.prices, batch=True)
                                + direct_usage.cost(self.prices) + self.screen_cost, 4)
        # The screen's tokens count too (at its own prices, in cost_usd above).
        screen_usage = self.screen_usage
        report.input_tokens += screen_usage.input_tokens
        report.cache_write_tokens += screen_usage.cache_write_tokens
        report.cache_read_tokens += screen_usage.cache_read_tokens
        report.output_tokens += screen_usage.output_tokens


def merge(literal: list[Mention], checked: list[Mention]) -> list[Mention]:
    """Rule mentions plus verified model mentions, one per source, SKU and sentence. Where
    both speak of the same sentence the rule mention stands: the team's phrases and
    guards decide a literal match, and the model, which reads many accounts' text in one
    request and can be steered by any of it, only adds sentences the phrases missed."""
    merged: dict[tuple[str, str, str], Mention] = {}
    for mention in [*literal, *checked]:
        merged.setdefault((mention.source_id, mention.sku, normalise(mention.quote)), mention)
    return list(merged.values())
