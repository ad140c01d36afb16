"""Pull a 1,000-account week from the fake APIs with 20 ms of added latency per request.

Reports requests made and wall time per source, against the time the vendors' rate
limits alone allow (requests spaced at the limit, plus the latency of each request).
Targets (issue 3): Gong needs at most one transcript request per 50 calls, and the
whole pull finishes within 1.5x the time its rate limits allow.

    python benchmarks/bench_connectors.py [--accounts 1000] [--latency 0.02]

It uses the fake servers of tests/fakes (real HTTP on 127.0.0.1) and the connectors'
default rate limits: Gong 3 requests/s, Gainsight 100/min, Zendesk 10/min.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "examples")]

from fakes import gainsight as gs_fake  # noqa: E402
from fakes import gong as gong_fake  # noqa: E402
from fakes import zendesk as zd_fake  # noqa: E402
from fakes.server import serving  # noqa: E402
from generate_portfolio import build_portfolio  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

from esd.app.settings import parse_as_of  # noqa: E402
from esd.connectors import live  # noqa: E402
from esd.connectors.gainsight import GainsightConfig  # noqa: E402
from esd.connectors.gong import GongConfig  # noqa: E402
from esd.connectors.zendesk import ZendeskConfig  # noqa: E402
from esd.models import Account, StakeholderChange, Ticket, UsageEvent  # noqa: E402
from esd.pipeline import make_window  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()

    data = build_portfolio(args.accounts, seed=7)
    accounts = TypeAdapter(list[Account]).validate_python(data["accounts"], strict=False)
    usage = TypeAdapter(list[UsageEvent]).validate_python(data["usage_events"], strict=False)
    tickets = TypeAdapter(list[Ticket]).validate_python(data["support_tickets"], strict=False)
    changes = TypeAdapter(list[StakeholderChange]).validate_python(
        data["stakeholder_changes"], strict=False)
    fakes = {
        "gong": gong_fake.GongFake(gong_fake.gong_from_portfolio(data["calls"], data["accounts"])),
        "gainsight": gs_fake.FakeGainsight(gs_fake.gainsight_from_portfolio(accounts, usage,
                                                                            changes)),
        "zendesk": zd_fake.FakeZendesk(zd_fake.zendesk_from_portfolio(tickets, accounts),
                                       page_size=1000),
    }
    with serving(*fakes.values()):  # `wall` below includes stopping them
        for api in fakes.values():
            api.latency = args.latency
        env = {
            "GONG_BASE_URL": fakes["gong"].url, "GONG_ACCESS_KEY": gong_fake.ACCESS_KEY,
            "GONG_ACCESS_KEY_SECRET": gong_fake.ACCESS_KEY_SECRET,
            "GAINSIGHT_URL": fakes["gainsight"].url, "GAINSIGHT_TOKEN": gs_fake.TOKEN,
            "ZENDESK_URL": fakes["zendesk"].url, "ZENDESK_EMAIL": zd_fake.EMAIL,
            "ZENDESK_API_TOKEN": zd_fake.API_TOKEN,
        }
        window = make_window(parse_as_of("2026-11-23"), 7)
        started = time.perf_counter()
        result = live.pull(env, {}, window)
    wall = time.perf_counter() - started

    rates = {  # requests per second each source's default limiter allows
        "gong": GongConfig.model_fields["requests_per_second"].default,
        "gainsight": GainsightConfig.model_fields["requests_per_minute"].default / 60,
        "zendesk": ZendeskConfig.model_fields["requests_per_minute"].default / 60,
    }
    allowed = 0.0
    print(f"{args.accounts} accounts, {args.latency * 1000:.0f} ms latency per request\n")
    print(f"{'source':<32}{'records':>8}{'requests':>10}")
    for h in result.health:
        print(f"{h.system:<32}{h.records:>8}{h.requests:>10}")
    for name, api in fakes.items():
        n = len(api.log)
        # The limiter spaces n requests over (n - 1) intervals; each request also waits
        # for its own latency. Sources are read one after another.
        allowed += (n - 1) / rates[name] + args.latency if n else 0.0
    calls = len(result.portfolio.calls)
    transcript_requests = sum(1 for r in fakes["gong"].log if r.path == "/v2/calls/transcript")
    print(f"\nGong: {calls} calls, {transcript_requests} transcript requests "
          f"({calls / max(transcript_requests, 1):.0f} calls per request; target >= 50)")
    print(f"Wall time {wall:.2f} s; the rate limits allow {allowed:.2f} s; "
          f"ratio {wall / allowed:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
