"""esd check with SLACK_BOT_TOKEN set: the CSMs Slack cannot find, before the first
run (contract §11), against the fake Slack (real HTTP)."""

from __future__ import annotations

import json

from builders import account, call, write_portfolio
from conftest import fake_fixture, make_golive_refs
from fakes import gainsight as gs_fake
from fakes import slack as slack_fake
from typer.testing import CliRunner

from esd.cli import app
from esd.delivery.slack import SCOPES

ANA, DIEGO, JESS, PRIYA, TOM = (f"{n}@lumen.example.com" for n in (
    "ana.ruiz", "diego.morales", "jess.okafor", "priya.natarajan", "tom.becker"))
TOM_LEGACY = "tom@lumen-legacy.example.com"  # the address Slack knows Tom by
LOOKUP = "/api/users.lookupByEmail"

slack = fake_fixture(lambda: slack_fake.FakeSlack([ANA, TOM_LEGACY]), scope="function")
gainsight = fake_fixture(gs_fake.FakeGainsight)


def inputs(tmp_path):
    owners = [ANA, ANA, DIEGO, JESS, PRIYA, TOM]
    return write_portfolio(
        tmp_path / "in",
        [account(f"a{i}", owner_email=o) for i, o in enumerate(owners)],
        calls=[call("a0", "c0", [("Dana Lee", "Hello.")])])


def check(slack, tmp_path, token: str | None = slack_fake.TOKEN, *extra: str):
    env = {"SLACK_API_URL": slack.url + "/api/", "SLACK_BOT_TOKEN": token or "",
           "GAINSIGHT_URL": "", "GAINSIGHT_TOKEN": ""}
    refs = make_golive_refs(tmp_path)  # so only what this test plants is reported
    return CliRunner().invoke(app, ["check", "--references", str(refs), "--input-dir",
                                    str(inputs(tmp_path)), *extra], env=env)


def lookups(slack) -> list[str]:
    return [slack_fake.request_args(r)["email"] for r, _ in slack.exchanges
            if r.path == LOOKUP]


def test_check_lists_the_csms_slack_cannot_find(slack, tmp_path):
    (tmp_path / "esd.toml").write_text(
        f'[slack.users]\n"{TOM}" = "{TOM_LEGACY}"\n"{JESS}" = "jess@gone.example.com"\n'
        f'"{PRIYA}" = "U04PRIYA01"\n')
    result = check(slack, tmp_path)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    accounts_file = str(tmp_path / "in" / "accounts.json")
    assert (f"{accounts_file}: CSM {DIEGO} (owner of 1 account): Slack has no user with "
            "this email, so esd run would miss their digest.") in text
    assert (f'esd.toml: CSM {JESS} (owner of 1 account): Slack has no user with this '
            f'email (mapped to "jess@gone.example.com" in [slack.users], which Slack does '
            "not know either)") in text
    assert f'[slack.users] "{DIEGO}" = ' in text
    for found in (ANA, TOM, PRIYA, TOM_LEGACY):
        assert f"CSM {found} " not in text
    assert "2 problem(s) found" in text
    # Each CSM once (Ana owns two accounts), under the address Slack knows;
    # a user id from [slack.users] is taken as it is.
    assert sorted(lookups(slack)) == sorted([ANA, DIEGO, "jess@gone.example.com",
                                             TOM_LEGACY])


def test_check_says_all_found_and_json_lists_the_problems(slack, tmp_path):
    (tmp_path / "esd.toml").write_text(f'[slack.users]\n"{TOM}" = "{TOM_LEGACY}"\n')
    slack.users.update({DIEGO: "U0DIEGO001", JESS: "U0JESS0001", PRIYA: "U0PRIYA001"})
    result = check(slack, tmp_path)
    assert result.exit_code == 0, result.output
    assert "Slack: all 5 CSMs found" in result.output
    del slack.users[DIEGO]
    as_json = check(slack, tmp_path, slack_fake.TOKEN, "--json")
    assert as_json.exit_code == 2
    problems = json.loads(as_json.stdout)["problems"]
    assert [p["message"].split(" (")[0] for p in problems] == [f"CSM {DIEGO}"]


def test_without_a_token_check_asks_slack_nothing(slack, tmp_path):
    result = check(slack, tmp_path, token=None)
    assert result.exit_code == 0, result.output
    assert "Slack" not in result.output and slack.exchanges == []


def test_a_token_slack_refuses_or_a_missing_scope_is_exit_4(slack, tmp_path):
    bad = check(slack, tmp_path, token="xoxb-not-the-token")
    assert bad.exit_code == 4 and "invalid_auth" in bad.output
    assert "xoxb-not-the-token" not in bad.output
    slack.revoke("users:read.email")
    scope = check(slack, tmp_path)
    assert scope.exit_code == 4 and "users:read.email" in " ".join(scope.output.split())


def test_the_scopes_esd_asks_for_cover_every_method_it_calls():
    # users.lookupByEmail, conversations.open, chat.postMessage, conversations.history
    # (reconciliation and reactions); users:read comes with users:read.email in Slack.
    needed = {slack_fake.SCOPE_OF[m] for m in ("users.lookupByEmail", "conversations.open",
                                                "chat.postMessage", "conversations.history")}
    assert needed | {"users:read", "reactions:read"} == set(SCOPES)


def test_without_input_files_the_live_usage_sources_owners_are_checked(slack, gainsight,
                                                                        tmp_path):
    # The demo's six CSMs, from Gainsight's Company object; Slack knows all but Marcus.
    demo = [f"{n}@lumen.example.com" for n in (
        "ana.ruiz", "diego.morales", "jess.okafor", "marcus.chen", "priya.natarajan",
        "tom.becker")]
    slack.users.update({e: slack_fake.user_id_for(e) for e in demo if "marcus" not in e})
    (tmp_path / "esd.toml").write_text("[gainsight]\nrequests_per_minute = 6000000\n")
    env = {"SLACK_API_URL": slack.url + "/api/", "SLACK_BOT_TOKEN": slack_fake.TOKEN,
           "GAINSIGHT_URL": gainsight.url, "GAINSIGHT_TOKEN": gs_fake.TOKEN}
    result = CliRunner().invoke(app, ["check", "--references", str(make_golive_refs(tmp_path)),
                                      "--json"],
                                env=env)
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["file"] == "accounts"
    assert problem["message"].startswith("CSM marcus.chen@lumen.example.com (owner of ")
    assert sorted(lookups(slack)) == demo
