"""Gainsight settings (esd.toml `[gainsight]`): the instance, its access key, and the
object and field names esd reads, each overridable since every instance names them its
own way (contract §8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from esd.config import Section, load_section
from esd.connectors.base import secret, setting
from esd.errors import InputError

QUERY_PATH = "/v1/data/objects/query/{}"
DESCRIBE_PATH = "/v1/meta/services/objects/describe"
PAGE_SIZE = 5000  # the documented maximum per read call
REQUESTS_PER_MINUTE = 100

ACCOUNT_OBJECT = "Company"
ACCOUNT_FIELDS = {
    "id": "SfdcAccountId", "name": "Name", "arr": "Arr", "renewal_date": "RenewalDate",
    "segment": "Segment__gc", "tier": "Tier__gc", "owner_email": "Csm__gr.Email",
    "owner_name": "Csm__gr.Name"}
USAGE_OBJECT = "Usage_Anomaly__gc"
USAGE_FIELDS = {
    "account_id": "Company_ID__gr.SfdcAccountId", "event_id": "Event_ID__gc",
    "event_type": "Event_Type__gc", "metric_name": "Metric_Name__gc",
    "value_current": "Value_Current__gc", "value_baseline": "Value_Baseline__gc",
    "delta_pct": "Delta_Pct__gc", "feature": "Feature__gc", "occurred_at": "Occurred_At__gc"}
STAKEHOLDER_OBJECT = "Stakeholder_Change__gc"
STAKEHOLDER_FIELDS = {
    "account_id": "Company_ID__gr.SfdcAccountId", "change_type": "Change_Type__gc",
    "role": "Role__gc", "is_champion": "Is_Champion__gc", "occurred_at": "Occurred_At__gc"}
# Off unless esd.toml names it: instances keep health in a custom object or Scorecard facts.
HEALTH_FIELDS = {
    "account_id": "Company_ID__gr.SfdcAccountId", "dau_mau": "Dau_Mau__gc",
    "feature_adoption": "Feature_Adoption__gc", "csat": "Csat__gc",
    "open_escalations": "Open_Escalations__gc", "exec_access": "Exec_Access__gc",
    "champion_active": "Champion_Active__gc", "nps": "Nps__gc", "seats_used": "Seats_Used__gc",
    "seats_licensed": "Seats_Licensed__gc"}
FIELD_TABLES = {"account_fields": ACCOUNT_FIELDS, "usage_fields": USAGE_FIELDS,
                "stakeholder_fields": STAKEHOLDER_FIELDS, "health_fields": HEALTH_FIELDS}

Name = Annotated[str, Field(min_length=1)]


class GainsightConfig(Section):
    """Instance URL, access key, and the names of [gainsight] in esd.toml."""

    SECTION: ClassVar[str] = "gainsight"
    ENV: ClassVar[Mapping[str, str]] = {"base_url": "GAINSIGHT_URL"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"token"})

    base_url: Name
    token: SecretStr
    account_object: Name = ACCOUNT_OBJECT
    account_fields: dict[str, Name] = Field(default_factory=lambda: dict(ACCOUNT_FIELDS))
    usage_object: Name = USAGE_OBJECT
    usage_fields: dict[str, Name] = Field(default_factory=lambda: dict(USAGE_FIELDS))
    stakeholder_object: Name | None = STAKEHOLDER_OBJECT  # None: the instance has none
    stakeholder_fields: dict[str, Name] = Field(default_factory=lambda: dict(STAKEHOLDER_FIELDS))
    health_object: Name | None = None  # e.g. "Company_Health__gc"; None: health not read
    health_fields: dict[str, Name] = Field(default_factory=lambda: dict(HEALTH_FIELDS))
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE)
    requests_per_minute: float = Field(REQUESTS_PER_MINUTE, gt=0)

    @field_validator("stakeholder_object", "health_object", mode="before")
    @classmethod
    def _none_when_off(cls, value: Any) -> Any:
        return None if value is False or value == "" else value

    @field_validator(*FIELD_TABLES, mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info) -> Any:
        """A table overrides single names; the others keep their defaults."""
        defaults = FIELD_TABLES[info.field_name]
        if not isinstance(value, Mapping):
            return value
        if unknown := sorted(set(value) - set(defaults)):
            raise ValueError(f"unknown key {', '.join(unknown)} (known: {', '.join(defaults)})")
        return {**defaults, **value}

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Mapping[str, Any]) -> GainsightConfig:
        """GAINSIGHT_URL (else esd.toml `base_url`) and GAINSIGHT_TOKEN from the
        environment; names from [gainsight] and its nested `[gainsight.*_fields]` tables."""
        section = section if isinstance(section, Mapping) else {}
        base_url = setting(env, section, "GAINSIGHT_URL", "base_url")
        if not base_url:
            raise InputError("Gainsight: environment variable GAINSIGHT_URL is not set (the "
                             "instance URL, e.g. https://yourcompany.gainsightcloud.com)")
        token = secret(env, "GAINSIGHT_TOKEN", "Gainsight")
        return load_section(cls, section, env, token=token)
