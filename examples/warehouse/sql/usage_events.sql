-- The window's usage anomalies (contract §2, usage_events.json).
-- Columns: account_id, event_type, metric_name, value_current, value_baseline,
-- delta_pct (percent; NULL allowed), occurred_at; optional feature, event_id.
select event_id, account_id, event_type, metric_name,
       value_current, value_baseline, delta_pct, feature, occurred_at
from usage_events
where occurred_at >= :window_start
  and occurred_at < :window_end
