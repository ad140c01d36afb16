-- esd reads account health from this query (optional: esd.toml [warehouse] health;
-- contract §9, used by esd segment and the digests' health bands). One row per
-- account; every column but account_id may be NULL:
--   account_id        text
--   dau_mau           number   0-1
--   feature_adoption  number   0-1
--   csat              number   0-5
--   open_escalations  integer
--   exec_access       boolean
--   champion_active   boolean
--   nps               number   -100-100
--   seats_used        integer
--   seats_licensed    integer
select account_id,
       cast(dau_mau as double) as dau_mau,
       cast(feature_adoption as double) as feature_adoption,
       cast(csat as double) as csat,
       cast(open_escalations as integer) as open_escalations,
       cast(exec_access as boolean) as exec_access,
       cast(champion_active as boolean) as champion_active,
       cast(nps as double) as nps,
       cast(seats_used as integer) as seats_used,
       cast(seats_licensed as integer) as seats_licensed
from read_csv('warehouse/data/health.csv', header = true, all_varchar = true)
