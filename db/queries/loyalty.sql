-- Loyalty: tiers, creators, missions, progress, metric events, redemptions. Every query runs
-- inside a tenant transaction (row-level security scopes it to the caller's tenant), but for
-- the scheduler's, which say so.

-- name: upsert_tier
insert into loyalty_tiers (key, name, tier_order) values ($1, $2, $3)
on conflict (tenant_id, key) do update set name = excluded.name, tier_order = excluded.tier_order
returning id, key, name, tier_order

-- name: tiers
select id, key, name, tier_order from loyalty_tiers order by tier_order, key

-- name: tier_by_key
select id, key, name, tier_order from loyalty_tiers where key = $1

-- name: insert_mission
insert into loyalty_missions (title, kind, target_value, tier_eligibility, enabled, activated)
values (:title, :kind, :target_value, :tier_eligibility, :enabled, :activated)
returning id, title, kind, target_value, tier_eligibility, enabled, activated

-- name: update_mission
-- Only the fields given change (null: as it is).
update loyalty_missions
set title = coalesce(:title, title), target_value = coalesce(:target_value, target_value),
    enabled = coalesce(:enabled, enabled), activated = coalesce(:activated, activated),
    version = version + 1
where id = :mission_id
returning id, title, kind, target_value, tier_eligibility, enabled, activated

-- name: missions
select id, title, kind, target_value, tier_eligibility, enabled, activated
from loyalty_missions order by created_at, id

-- name: upsert_creator
insert into loyalty_creators (user_id, handle, tier_key, tier_achieved_at, next_checkpoint_at)
values (:user_id, :handle, :tier_key, :tier_achieved_at, :next_checkpoint_at)
on conflict (tenant_id, user_id) do update
set handle = excluded.handle, tier_key = excluded.tier_key,
    tier_achieved_at = excluded.tier_achieved_at,
    next_checkpoint_at = excluded.next_checkpoint_at, updated_at = now()
returning user_id, handle, tier_achieved_at, next_checkpoint_at

-- name: progress_of
-- A creator's progress rows with their missions, mission order.
select p.id, p.user_id, p.current_value, p.status, p.checkpoint_start, p.checkpoint_end,
       p.completed_at, p.version,
       m.id as mission_id, m.title, m.kind, m.target_value, m.tier_eligibility, m.enabled,
       m.activated
from loyalty_progress p join loyalty_missions m on m.id = p.mission_id
where p.user_id = $1
order by m.created_at, m.id

-- name: claim
-- The creator's COMPLETED row becomes CLAIMED, once (the row lock makes a second claim wait,
-- then find it CLAIMED).
update loyalty_progress
set status = 'CLAIMED', claimed_at = now(), updated_at = now(), version = version + 1
where id = $1 and user_id = $2 and status = 'COMPLETED'
returning id

-- name: progress_status
select status from loyalty_progress where id = $1 and user_id = $2

-- ------------------------------------------------------------------ import

-- name: create_staging
create temporary table loyalty_import (
  line        integer not null,
  external_id text not null,
  user_id     text not null,
  kind        text not null,
  value       double precision not null,
  occurred_at timestamptz not null
) on commit drop

-- name: unknown_creators
select i.line, i.user_id from loyalty_import i
where not exists (select 1 from loyalty_creators c where c.user_id = i.user_id)
order by i.line limit $1

-- name: repeated_ids
select i.line, i.external_id,
       (select min(j.line) from loyalty_import j where j.external_id = i.external_id) as first
from loyalty_import i
where exists (
  select 1 from loyalty_import j where j.external_id = i.external_id and j.line < i.line)
order by i.line limit $1

-- name: import_staged
with imported as (
  insert into loyalty_metric_events (source, external_id, user_id, kind, value, occurred_at)
  select $1, external_id, user_id, kind, value, occurred_at from loyalty_import order by line
  on conflict (tenant_id, source, external_id) do nothing
  returning 1
)
select count(*)::int from imported

-- ------------------------------------------------------------------ daily sync

-- name: sync_lock
-- One sync per tenant at a time: a second one waits here, then finds nothing left to do.
select pg_advisory_xact_lock(hashtextextended('allot.loyalty.sync:' || allot_tenant()::text, 0))

-- name: import_lock
-- Imports share the sync's lock: they run together, never during a sync.
select pg_advisory_xact_lock_shared(
  hashtextextended('allot.loyalty.sync:' || allot_tenant()::text, 0))

-- name: sync_state
select last_as_of, last_synced_at from loyalty_sync_state

-- name: record_sync
insert into loyalty_sync_state (last_as_of, last_synced_at) values ($1, now())
on conflict (tenant_id) do update
set last_as_of = excluded.last_as_of, last_synced_at = excluded.last_synced_at

-- name: skipped_missions
select title, tier_eligibility from loyalty_missions m
where enabled and tier_eligibility <> 'all'
  and not exists (select 1 from loyalty_tiers t where t.key = m.tier_eligibility)
order by created_at, id

-- name: skipped_creators
select user_id, tier_key from loyalty_creators c
where not exists (select 1 from loyalty_tiers t where t.key = c.tier_key)
order by user_id

-- name: create_progress
-- Rows for the eligible creators of enabled missions that have none: ACTIVE if the mission is
-- activated, else DORMANT, the creator's checkpoints snapshotted.
with created as (
  insert into loyalty_progress (mission_id, user_id, status, checkpoint_start, checkpoint_end)
  select m.id, c.user_id, case when m.activated then 'ACTIVE' else 'DORMANT' end,
         c.tier_achieved_at, c.next_checkpoint_at
  from loyalty_missions m
  cross join loyalty_creators c
  join loyalty_tiers ct on ct.key = c.tier_key
  left join loyalty_tiers mt on mt.key = m.tier_eligibility
  where m.enabled
    and (m.tier_eligibility = 'all' or ct.tier_order >= mt.tier_order)
    and not exists (  -- an anti-join: a rerun reads the pairs, it does not try to insert them
      select 1 from loyalty_progress p where p.mission_id = m.id and p.user_id = c.user_id)
  on conflict (mission_id, user_id) do nothing
  returning 1
)
select count(*)::int from created

-- name: activate_progress
-- DORMANT rows of missions activated since.
with activated as (
  update loyalty_progress p
  set status = 'ACTIVE', updated_at = now(), version = p.version + 1
  from loyalty_missions m
  where m.id = p.mission_id and p.status = 'DORMANT' and m.activated and m.enabled
  returning 1
)
select count(*)::int from activated

-- name: recompute_progress
-- ACTIVE rows' values from the events of their mission's kind inside their checkpoint window,
-- up to :as_of; only the rows whose value changes are written. With :since (the last sync's
-- time and as_of, which is at most this one's), only the rows made or activated by this
-- sync, and those of a creator and kind with events imported since or inside the window's
-- new part, are read.
with dirty as (
  select distinct user_id, kind from loyalty_metric_events
  where :since::timestamptz is not null
    and (imported_at > :since or (occurred_at > :last_as_of and occurred_at <= :as_of))
),
totals as (
  select p.id, coalesce(sum(e.value), 0) as total
  from loyalty_progress p
  join loyalty_missions m on m.id = p.mission_id
  left join loyalty_metric_events e
    on e.user_id = p.user_id and e.kind = m.kind and e.occurred_at <= :as_of
   and (p.checkpoint_start is null or e.occurred_at >= p.checkpoint_start)
   and (p.checkpoint_end is null or e.occurred_at < p.checkpoint_end)
  where p.status = 'ACTIVE'
    and (:since::timestamptz is null
         or p.updated_at = now()
         or exists (select 1 from dirty d where d.user_id = p.user_id and d.kind = m.kind))
  group by p.id
),
updated as (
  update loyalty_progress p
  set current_value = t.total, updated_at = now(), version = p.version + 1
  from totals t
  where t.id = p.id and p.current_value is distinct from t.total
  returning 1
)
select count(*)::int from updated

-- name: complete_progress
-- ACTIVE rows at their target: COMPLETED, and their redemption, in one statement.
with completed as (
  update loyalty_progress p
  set status = 'COMPLETED', completed_at = now(), updated_at = now(), version = p.version + 1
  from loyalty_missions m
  where m.id = p.mission_id and p.status = 'ACTIVE' and p.current_value >= m.target_value
  returning p.id
),
redeemed as (
  insert into loyalty_redemptions (progress_id)
  select id from completed
  on conflict (progress_id) do nothing
  returning 1
)
select (select count(*) from completed)::int as completed,
       (select count(*) from redeemed)::int as redeemed

-- ------------------------------------------------------------------ the scheduler (allot_system)

-- name: sync_tenants
-- Every tenant with a loyalty mission.
select distinct tenant_id from loyalty_missions

-- name: ran_on
select exists (select 1 from loyalty_daily_runs where day = $1)

-- name: record_run
insert into loyalty_daily_runs (day) values ($1) on conflict (day) do nothing

-- name: scheduler_lock
select pg_try_advisory_lock(hashtextextended('allot.loyalty.daily', 0))

-- name: scheduler_unlock
select pg_advisory_unlock(hashtextextended('allot.loyalty.daily', 0))

-- ------------------------------------------------------------------ demo

-- name: any_loyalty
select exists (select 1 from loyalty_tiers)
