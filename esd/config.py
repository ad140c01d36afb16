"""Settings of the live sources (contract §8): esd.toml sections plus the environment.

Secrets come only from the environment (a .env file may fill it); non-secret settings
come from esd.toml (`--config FILE` or `ESD_CONFIG` to move it), and an environment
variable wins over the file.

Every esd.toml section a live source reads (`[gong]`, `[gainsight]`, `[zendesk]`,
`[intercom]`, `[helpscout]`, `[http]`) is a `Section` model, built by `load_section` one
way: unknown keys and wrong values are exit 2, each reported as one line
`esd.toml [section]: key: message` (or `environment VAR: key: message` when the value
came from an environment variable).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from esd.errors import InputError
from esd.paging import MAX_PAGES

MAX_WAIT_S = 120.0  # contract §8: Retry-After honoured up to [http] max_wait_s

TOML = "esd.toml"

TICKET_SYSTEMS = {
    # name -> environment variables whose presence means "credentials present"
    "zendesk": ("ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN"),
    "intercom": ("INTERCOM_ACCESS_TOKEN",),
    "helpscout": ("HELPSCOUT_APP_ID", "HELPSCOUT_APP_SECRET"),
}
USAGE_SOURCES = ("gainsight", "warehouse")
# esd.toml [warehouse] keys that name files: paths relative to esd.toml (contract §8).
WAREHOUSE_QUERY_KEYS = ("accounts", "usage_events", "stakeholder_changes", "health")


def load_toml(path: Path | None) -> dict[str, Any]:
    """esd.toml as a dict ({} when there is none), the query files of [warehouse]
    resolved against its folder."""
    if path is None or not path.is_file():
        return {}
    import tomllib  # only when there is a file

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    warehouse = data.get("warehouse")
    if isinstance(warehouse, dict):
        for key in WAREHOUSE_QUERY_KEYS:
            if isinstance(warehouse.get(key), str) and warehouse[key]:
                warehouse[key] = str(path.parent / warehouse[key])
    return data


def ticket_system(env: Mapping[str, str], toml: Mapping[str, Any]) -> str:
    """zendesk, intercom, helpscout or none (contract §8).

    ESD_TICKET_SOURCE (or `ticket_source` in esd.toml) decides; unset, it is the one
    system whose credentials are present, `none` when none are, and exit 2 when two or
    more are.
    """
    chosen = env.get("ESD_TICKET_SOURCE") or toml.get("ticket_source")
    if chosen:
        chosen = chosen.strip().lower().replace(" ", "")
        if chosen not in (*TICKET_SYSTEMS, "none"):
            raise InputError(f"ESD_TICKET_SOURCE={chosen!r}: choose one of zendesk, intercom, "
                             "helpscout, none")
        return chosen
    present = [name for name, variables in TICKET_SYSTEMS.items()
               if any(env.get(v) for v in variables)]
    if len(present) > 1:
        raise InputError(f"credentials for several ticket systems are set ({', '.join(present)}):"
                         " choose one with ESD_TICKET_SOURCE")
    return present[0] if present else "none"


def usage_source(env: Mapping[str, str], toml: Mapping[str, Any]) -> str:
    """gainsight (the default) or warehouse: where accounts, usage events, stakeholder
    changes and health come from (contract §8)."""
    chosen = (env.get("ESD_USAGE_SOURCE") or toml.get("usage_source") or "gainsight")
    chosen = chosen.strip().lower()
    if chosen not in USAGE_SOURCES:
        raise InputError(f"ESD_USAGE_SOURCE={chosen!r}: choose gainsight or warehouse (any "
                         "SQL warehouse: Snowflake, BigQuery, PostgreSQL, DuckDB, ... is "
                         "`warehouse`, with ESD_WAREHOUSE_URL)", field="ESD_USAGE_SOURCE")
    return chosen


class Section(BaseModel):
    """The settings behind one esd.toml section; subclasses name it and say which
    fields an environment variable may set (`ENV`) and which only the environment
    holds (`SECRETS`: credentials, never read from the file)."""

    model_config = ConfigDict(extra="forbid")

    SECTION: ClassVar[str] = ""
    ENV: ClassVar[Mapping[str, str]] = {}  # field -> environment variable, which wins
    SECRETS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def toml_keys(cls) -> list[str]:
        return [name for name in cls.model_fields if name not in cls.SECRETS]


S = TypeVar("S", bound=Section)


def load_section(model: type[S], section: Any, env: Mapping[str, str] | None = None,
                 **given: Any) -> S:
    """`model` from its esd.toml table, environment variables over it (`model.ENV`),
    then `given` (credentials and derived values) over both.

    Raises InputError listing every unknown key and wrong value, one line each.
    """
    where = f"{TOML} [{model.SECTION}]"
    if not isinstance(section, Mapping):
        raise InputError(f"{where}: not a table", file=TOML, field=model.SECTION)
    keys = model.toml_keys()
    problems = [(key, f"{where}: {key}: unknown key (known: {', '.join(keys)})")
                for key in section if key not in keys]
    values = {key: value for key, value in section.items() if key in keys}
    origins: dict[str, str] = {}
    for name, var in model.ENV.items():
        if env and env.get(var):
            values[name], origins[name] = env[var], f"environment {var}"
    values.update(given)
    try:
        result = model.model_validate(values)
    except ValidationError as exc:
        problems += validation_problems(exc, where, origins)
        result = None
    if problems:
        lines = [line for _, line in problems]
        raise InputError("\n".join(lines), lines, file=TOML, field=problems[0][0])
    return result


def validation_problems(exc: ValidationError, where: str,
                        origins: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(key, line) per error of `exc`, the line `where: key: message` (`origins` names
    the environment variable a field came from instead of `where`)."""
    found = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]] or ["(section)"]
        key, message = ".".join(loc), err["msg"].removeprefix("Value error, ")
        found.append((key, f"{(origins or {}).get(loc[0], where)}: {key}: {message}"))
    return found


class HttpConfig(Section):
    """esd.toml `[http]`: the retry policy and page cap of every source."""

    SECTION: ClassVar[str] = "http"

    max_attempts: int = Field(5, gt=0, strict=True)  # per request, the first included
    backoff_seconds: float = Field(0.5, gt=0, strict=True)  # first wait, doubled per attempt
    max_wait_s: float = Field(MAX_WAIT_S, gt=0, strict=True)  # longest Retry-After honoured
    max_wait_seconds: float | None = Field(None, gt=0, strict=True)  # deprecated: max_wait_s
    max_pages: int = Field(MAX_PAGES, gt=0, strict=True)  # per endpoint and window

    @model_validator(mode="after")
    def _deprecated_name(self) -> HttpConfig:
        if self.max_wait_seconds is not None and "max_wait_s" not in self.model_fields_set:
            self.max_wait_s = self.max_wait_seconds
        return self

    def apply(self, source: Any) -> None:
        """Set these values on a connector's `Source`."""
        source.max_attempts, source.backoff = self.max_attempts, self.backoff_seconds
        source.max_wait, source.max_pages = self.max_wait_s, self.max_pages


def http_settings(toml: Mapping[str, Any]) -> HttpConfig:
    """esd.toml's [http] table, read one way for every HTTP client esd has (sources,
    Claude, Slack): exit 2 when a key is unknown or a value wrong."""
    return load_section(HttpConfig, toml.get("http", {}))
