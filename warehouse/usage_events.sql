-- esd reads usage anomalies from this query (esd.toml [warehouse] usage_events;
-- contract §2). Return the window's events, these columns:
--   account_id      text
--   event_type      text      e.g. seat_count_spike, feature_first_use,
--                             tier_gated_feature_attempt (references/1-... usage triggers)
--   metric_name     text      matches a metric of references/2-segment-baseline-config.md
--   value_current   number    may be NULL
--   value_baseline  number    may be NULL
--   delta_pct       number    percent: 25.0 means +25 %; may be NULL
--   occurred_at     timestamp (or ISO 8601 text; no offset means UTC)
--   feature         text      optional: the gated or first-used feature, e.g. sso
--   event_id        text      optional
-- :window_start and :window_end bound the run's window (UTC, end excluded).
select account_id,
       event_type,
       metric_name,
       cast(value_current as double) as value_current,
       cast(value_baseline as double) as value_baseline,
       cast(delta_pct as double) as delta_pct,
       cast(occurred_at as timestamptz) as occurred_at,
       feature,
       event_id
from read_csv('warehouse/data/usage_events.csv', header = true, all_varchar = true)
where cast(occurred_at as timestamptz) >= :window_start
  and cast(occurred_at as timestamptz) < :window_end
