"""Render a RunResult: one Markdown digest per CSM (the team's Jinja2 template) and the
machine-readable run.json of contract §7."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
)

from esd import cache
from esd.defaults import defaults_dir
from esd.format import digest_filename, utc_z
from esd.models import Account, Digest, Mention, RunResult, Signal, UsageEvent
from esd.render.digest_parts import (
    call_ref,
    capped,
    capped_accounts,
    contact,
    personal_action,
    weak_lines,
)
from esd.text import squash

TEMPLATE = "digest.md.j2"
SHOWN_CALL_QUOTES = 2
WEAK_SUMMARIES = {
    "call-only": "call mention only, no usage corroboration",
    "usage-only": "usage anomaly only ({usage}), no call mention",
    "ticket-only": "ticket only ({ticket}), no call or usage corroboration",
    "call-and-ticket": "call mention and ticket, no usage corroboration",
    "usage-and-ticket": "usage anomaly ({usage}) and ticket, no call mention",
    "champion-departure": "_champion-departure suppressed: investigate before pursuing._",
}


def money(arr: float) -> str:
    """$480k, $1,250k, $12.5k: ARR in thousands, as the seed's layout shows it."""
    k = arr / 1000
    if k >= 100 or k == int(k):
        return f"${k:,.0f}k"
    return f"${k:,.1f}k"


def pct(value: float | None, sign: bool = True) -> str:
    if value is None:
        return "n/a"
    text = f"{value:+.1f}%" if sign else f"{value:.1f}%"
    return text.replace(".0%", "%")


def num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def day(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


oneline = squash  # the template filter's name

# Contract §11: source text (names, ids, quotes, metrics, features, tags) is shown as
# text. A line break becomes a space, so nothing can start a header or quote line, and
# the characters that open a Markdown link, autolink, HTML tag or code span are
# backslash-escaped. `_` and `*` are left alone: they can only emphasise, and metric
# names such as seat_count stay readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`\[\]<>])")
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def md_text(value: str | None) -> str | None:
    """A field from a source as one line of literal Markdown text."""
    if value is None:
        return None
    return _MD_SPECIAL.sub(r"\\\1", squash(_BREAKS.sub(" ", value)))


def default_templates() -> Path:
    """The built-in templates folder."""
    return defaults_dir() / "templates"


class _QuietCache(FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates (keyed by the template's file and the
    checksum of its text, written atomically), in esd's cache folder (esd.cache):
    compiling the digest template was a tenth of a 200-account dry run. A cache that
    cannot be read or written only means compiling again."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 (truncated, foreign or unreadable: compile)
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> BytecodeCache | None:
    where = cache.folder()
    return _QuietCache(str(where)) if where is not None else None


def environment(template_dir: Path) -> Environment:
    """Templates from `template_dir`; any it lacks (a team folder made before a template
    existed, say segmentation.md.j2) come from the built-in ones."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(template_dir)),
                             FileSystemLoader(str(default_templates()))]),
        bytecode_cache=_bytecode_cache(),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        autoescape=False,  # Markdown, not HTML
    )
    env.filters.update(money=money, pct=pct, num=num, day=day, oneline=oneline, text=md_text)
    return env


class Quote(Mention):
    """A quoted mention as the template sees it: every source field escaped, and `ref`,
    the call id linked to the call's page where the source gives a safe URL."""

    ref: str = ""


def render_digests(result: RunResult, template_dir: Path, cap: int) -> dict[str, str]:
    """File name -> Markdown, one per digest.

    Besides the digest, its `strong` and `weak` views and the run's figures, the template
    sees `weak_accounts` (the weak signals, one entry per account: `account`, `segment`,
    `items`) and `capped` (the accounts over the cap, ranked: `name`, `skus`)."""
    template = environment(template_dir).get_template(TEMPLATE)
    names = {a.id: md_text(a.name) for a in result.accounts.values()}
    out = {}
    for digest in result.digests:
        weak = [_weak_view(s, result) for s in digest.weak]
        text = template.render(
            digest=digest.model_copy(update={"csm_name": md_text(digest.csm_name)}),
            as_of=result.as_of,
            window_days=result.window_days,
            coverage_pct=result.coverage_pct,
            d=result.diagnostics,
            cap=cap,
            strong=[_strong_view(s, result) for s in digest.strong],
            weak=weak,
            weak_accounts=weak_lines(weak),
            capped=capped_accounts(capped(digest, result), names),
        )
        out[digest_filename(digest.owner_email)] = re.sub(r"\n{3,}", "\n\n", text)
    return out


def preview_banner(digest: Digest, reviewer: str, as_of: datetime) -> str:
    """The line on top of a digest sent as a preview (esd run --preview-to): whose
    digest it is, and that it is not theirs yet."""
    name, owner = md_text(digest.csm_name), md_text(digest.owner_email)
    return (f"**Preview** of {name}'s digest ({owner}) for the week ending {day(as_of)}, "
            f"sent to {md_text(reviewer)} only: {name} has not received it, and reactions "
            "here are not recorded.\n\n")


def segment_label(account_id: str, result: RunResult) -> str:
    """"Tier 1 Strategic · Healthy" (the health band only when known), or ""."""
    label = result.labels.get(account_id)
    if label is None:
        return ""
    tier, name, band = label
    return f"Tier {tier} {name}" + (f" · {band}" if band != "unknown" else "")


def _strong_view(signal: Signal, result: RunResult) -> dict[str, Any]:
    """What the template sees of a strong signal: every source field already escaped
    (md_text), so a team's own template cannot forget it."""
    who = contact(signal.call_evidence, md_text)
    return {
        # The action names the customer who asked where the library says "the security
        # contact" or the like (esd.render.digest_parts); run.json keeps it as written.
        "signal": signal.model_copy(update={
            "tags": [md_text(t) for t in signal.tags],
            "action": personal_action(signal.action, who)}),
        "account": _account(result.accounts[signal.account_id]),
        "segment": segment_label(signal.account_id, result),
        "contact": who,
        "calls": [_quote(m, result) for m in signal.call_evidence[:SHOWN_CALL_QUOTES]],
        "more_calls": max(0, len(signal.call_evidence) - SHOWN_CALL_QUOTES),
        "usage": [_usage(e) for e in signal.usage_evidence[:2]],
        "tickets": [_mention(m) for m in signal.ticket_evidence[:1]],
    }


def _weak_view(signal: Signal, result: RunResult) -> dict[str, Any]:
    usage = signal.usage_evidence[0] if signal.usage_evidence else None
    ticket = signal.ticket_evidence[0] if signal.ticket_evidence else None
    summary = WEAK_SUMMARIES[signal.reason or "call-only"].format(
        usage=f"{md_text(usage.event_type)} {pct(usage.delta_pct)}" if usage else "",
        ticket=f'"{md_text(oneline(ticket.quote)[:80])}"' if ticket else "",
    )
    return {"signal": signal.model_copy(update={"tags": [md_text(t) for t in signal.tags]}),
            "account": _account(result.accounts[signal.account_id]), "summary": summary,
            "segment": segment_label(signal.account_id, result)}


def _account(account: Account) -> Account:
    return account.model_copy(update={
        "id": md_text(account.id), "name": md_text(account.name),
        "owner_name": md_text(account.owner_name), "segment": md_text(account.segment),
        "tier": md_text(account.tier)})


def _mention(m: Mention) -> Mention:
    return m.model_copy(update={
        "quote": md_text(m.quote), "source_id": md_text(m.source_id),
        "speaker": md_text(m.speaker), "speaker_title": md_text(m.speaker_title),
        "trigger": md_text(m.trigger)})


def _quote(m: Mention, result: RunResult) -> Quote:
    shown = _mention(m)
    return Quote(**dict(shown), ref=call_ref(shown.source_id, result.call_urls.get(m.source_id)))


def _usage(e: UsageEvent) -> UsageEvent:
    return e.model_copy(update={
        "event_type": md_text(e.event_type), "metric_name": md_text(e.metric_name),
        "feature": md_text(e.feature), "event_id": md_text(e.event_id)})


def run_json(result: RunResult, cap: int) -> dict[str, Any]:
    """The machine-readable record of the run (contract §7; fields may be added, not renamed)."""
    return {
        "as_of": utc_z(result.as_of),
        "window_days": result.window_days,
        "cap_per_csm": cap,
        "coverage_pct": result.coverage_pct,
        "diagnostics": result.diagnostics.model_dump(),
        "warnings": result.warnings,
        "digests": [_digest_json(d, result) for d in result.digests],
        "not_signal": [
            {"account_id": m.account_id, "sku": m.sku, "source_id": m.source_id,
             "source": m.source, "reason": m.reason, "quote": m.quote, "speaker": m.speaker}
            for m in result.not_signal
        ],
    }


def _digest_json(digest: Digest, result: RunResult) -> dict[str, Any]:
    return {
        "owner_email": digest.owner_email,
        "csm_name": digest.csm_name,
        "file": digest_filename(digest.owner_email),
        "warnings": digest.warnings,
        "strong": [
            {
                "signal_id": s.signal_id,
                "account_id": s.account_id,
                "account_name": result.accounts[s.account_id].name,
                "arr": result.accounts[s.account_id].arr,
                **_label_json(s.account_id, result),
                "sku": s.sku,
                "action": s.action,
                "action_row": s.action_row,
                "call_evidence": [_mention_json(m, result.call_urls.get(m.source_id))
                                  for m in s.call_evidence],
                "usage_evidence": [
                    {"event_type": e.event_type, "metric_name": e.metric_name,
                     "delta_pct": e.delta_pct, "value_baseline": e.value_baseline,
                     "value_current": e.value_current, "feature": e.feature,
                     "event_id": e.event_id}
                    for e in s.usage_evidence
                ],
                "ticket_evidence": [_mention_json(m) for m in s.ticket_evidence],
            }
            for s in digest.strong
        ],
        "weak": [{"signal_id": s.signal_id, "account_id": s.account_id, "sku": s.sku,
                  "reason": s.reason, "tags": s.tags}
                 for s in digest.weak],
        "overflow": digest.overflow,
        "capped": [{"account_id": s.account_id, "sku": s.sku,
                    "account_name": result.accounts[s.account_id].name}
                   for s in capped(digest, result)],
    }


def _label_json(account_id: str, result: RunResult) -> dict[str, Any]:
    label = result.labels.get(account_id)
    if label is None:
        return {}
    return {"tier": label[0], "tier_name": label[1], "health_band": label[2]}


def _mention_json(m: Mention, url: str | None = None) -> dict[str, Any]:
    key = "call_id" if m.source == "call" else "ticket_id"
    return {key: m.source_id, "speaker": m.speaker, "quote": m.quote, "trigger": m.trigger,
            **({"phrase": m.phrase} if m.phrase else {}), **({"url": url} if url else {})}
