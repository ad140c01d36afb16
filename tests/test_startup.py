"""Start-up (issue 16): a command imports only what it needs. A quiet dry-run of the
demo never loads rich, the live connectors' HTTP stack, SQL, the state store, the
Slack ledger, the segmentation model, the Claude SDK or the transcript-format
libraries; a dry-run on a terminal does load rich, to print."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "portfolio"
NEVER = {"rich", "httpx", "sqlalchemy", "anthropic", "slack_sdk", "duckdb", "psycopg",
         "webvtt", "srt", "sqlite3", "dotenv", "tomllib"}
NEVER_ESD = {"esd.state", "esd.delivery.ledger", "esd.delivery.slack", "esd.segment.model",
             "esd.connectors.live", "esd.extractors.claude"}

PROBE = """
import json, sys
from esd.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted(sys.modules)
print(json.dumps({"code": code, "modules": loaded}))
"""


def _modules(tmp_path: Path, *extra: str) -> tuple[int, set[str]]:
    argv = ["dry-run", "--input-dir", str(DEMO), "--references", str(DEMO / "references"),
            "--as-of", "2026-11-23", "--out", str(tmp_path / "out"), *extra]
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                          text=True, cwd=tmp_path, check=True)
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


def test_quiet_dry_run_loads_only_what_it_needs(tmp_path):
    code, modules = _modules(tmp_path, "--quiet")
    assert code == 0
    assert (tmp_path / "out" / "run.json").is_file()
    tops = {m.split(".")[0] for m in modules}
    assert not tops & NEVER
    assert not modules & NEVER_ESD
    assert {"esd.pipeline", "jinja2", "pydantic"} <= modules | tops


def test_printing_loads_rich(tmp_path):
    code, modules = _modules(tmp_path, "--no-quiet")  # the summary table is printed
    assert code == 0
    assert "rich.console" in modules and "rich.table" in modules
