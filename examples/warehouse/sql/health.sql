-- One row per account (contract §9, health.json); every column but account_id may be
-- NULL: dau_mau, feature_adoption (0-1), csat (0-5), open_escalations, exec_access,
-- champion_active, nps (-100-100), seats_used, seats_licensed.
select account_id, dau_mau, feature_adoption, csat, open_escalations,
       exec_access, champion_active, nps, seats_used, seats_licensed
from health
