-- Loyalty: tiers, creators, missions open to a tier and above, each creator's progress on
-- each mission, imported metric events, and the redemptions completed missions earn.
--
-- The daily sync (services/loyalty/flows.py, db/queries/loyalty.sql) creates, updates and
-- completes progress rows set-based, one transaction per tenant, under an advisory lock. What a
-- repeated or concurrent run could break is held here: one progress row per mission and
-- creator, one metric event per (source, external id), one redemption per progress row, and a
-- progress row's checkpoints never change after it is created.
-- Realtime: a creator's rows on 'loyalty.progress:<user id>', once per statement and creator.

create table loyalty_tiers (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null default allot_tenant() references tenants (tenant_id),
  key        text not null,
  name       text not null,
  tier_order integer not null,
  constraint loyalty_tiers_key unique (tenant_id, key),
  constraint loyalty_tiers_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$' and key <> 'all'),
  constraint loyalty_tiers_name check (char_length(name) between 1 and 100)
);
select allot_enable_rls('loyalty_tiers');

create table loyalty_creators (
  tenant_id          uuid not null default allot_tenant(),
  user_id            text not null,
  handle             text not null,
  tier_key           text not null,
  tier_achieved_at   timestamptz not null,
  next_checkpoint_at timestamptz,
  updated_at         timestamptz not null default now(),
  primary key (tenant_id, user_id),
  constraint loyalty_creators_handle check (char_length(handle) between 1 and 100),
  constraint loyalty_creators_checkpoints check (next_checkpoint_at > tier_achieved_at)
);
select allot_enable_rls('loyalty_creators');

create table loyalty_missions (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null default allot_tenant(),
  title            text not null,
  kind             text not null,
  target_value     double precision not null,
  tier_eligibility text not null,  -- a tier key (which may not exist yet), or 'all'
  enabled          boolean not null,
  activated        boolean not null,
  created_at       timestamptz not null default now(),
  version          bigint not null default 1,
  constraint loyalty_missions_title check (char_length(title) between 1 and 200),
  constraint loyalty_missions_kind check (
    kind in ('SALES_DOLLARS', 'SALES_UNITS', 'VIDEOS', 'VIEWS', 'LIKES')),
  constraint loyalty_missions_target check (target_value > 0)
);
select allot_enable_rls('loyalty_missions');

create table loyalty_progress (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null default allot_tenant(),
  mission_id       uuid not null references loyalty_missions (id) on delete cascade,
  user_id          text not null,
  current_value    double precision not null default 0,
  status           text not null,
  checkpoint_start timestamptz,
  checkpoint_end   timestamptz,
  completed_at     timestamptz,
  claimed_at       timestamptz,
  version          bigint not null default 1,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  constraint loyalty_progress_one_per_creator unique (mission_id, user_id),
  constraint loyalty_progress_status check (status in ('ACTIVE', 'DORMANT', 'COMPLETED', 'CLAIMED')),
  constraint loyalty_progress_completed check (
    (status in ('COMPLETED', 'CLAIMED')) = (completed_at is not null)
    and (status = 'CLAIMED') = (claimed_at is not null))
);
select allot_enable_rls('loyalty_progress');
create index loyalty_progress_of_user on loyalty_progress (tenant_id, user_id);
create index loyalty_progress_active on loyalty_progress (tenant_id, mission_id) where status = 'ACTIVE';

-- A progress row's checkpoints are the creator's when the row was created, for good.
create function loyalty_progress_guard() returns trigger
  language plpgsql
  as $$
begin
  if new.checkpoint_start is distinct from old.checkpoint_start
     or new.checkpoint_end is distinct from old.checkpoint_end
     or new.mission_id <> old.mission_id or new.user_id <> old.user_id then
    raise exception 'a progress row''s mission, creator and checkpoints never change'
      using errcode = 'check_violation', constraint = 'loyalty_progress_fixed';
  end if;
  return new;
end
$$;
create trigger loyalty_progress_guard before update on loyalty_progress
  for each row execute function loyalty_progress_guard();

create table loyalty_metric_events (
  id          bigint generated always as identity primary key,
  tenant_id   uuid not null default allot_tenant(),
  source      text not null,
  external_id text not null,
  user_id     text not null,
  kind        text not null,
  value       double precision not null,
  occurred_at timestamptz not null,
  -- When the row was written (after the import's lock: see loyalty_sync_state).
  imported_at timestamptz not null default clock_timestamp(),
  constraint loyalty_metric_events_once unique (tenant_id, source, external_id),
  constraint loyalty_metric_events_value check (value >= 0),
  constraint loyalty_metric_events_kind check (
    kind in ('SALES_DOLLARS', 'SALES_UNITS', 'VIDEOS', 'VIEWS', 'LIKES'))
);
select allot_enable_rls('loyalty_metric_events');
create index loyalty_metric_events_of_user on loyalty_metric_events (tenant_id, user_id, kind, occurred_at);

create table loyalty_redemptions (
  id          uuid primary key default gen_random_uuid(),
  tenant_id   uuid not null default allot_tenant(),
  progress_id uuid not null references loyalty_progress (id) on delete cascade,
  created_at  timestamptz not null default now(),
  constraint loyalty_redemptions_one_per_progress unique (progress_id)
);
select allot_enable_rls('loyalty_redemptions');

-- A tenant's last sync: what it counted up to and when it ran. The next sync with the same
-- or a later as_of recomputes only the rows that events imported since, or events inside the
-- later window, can change. Imports hold the tenant's sync lock in share mode and a sync in
-- exclusive mode, so an import a sync did not see was written after that sync ended.
create table loyalty_sync_state (
  tenant_id      uuid primary key default allot_tenant(),
  last_as_of     timestamptz not null,
  last_synced_at timestamptz not null
);
select allot_enable_rls('loyalty_sync_state');

-- The scheduled daily sync: one row per day it ran (across tenants), so a missed day is caught
-- up at start and several processes run it once.
create table loyalty_daily_runs (
  day         date primary key,
  finished_at timestamptz not null default now()
);
grant select, insert on loyalty_daily_runs to allot_system;
select allot_system_access('loyalty_missions', 'select');

-- A creator's progress changed: once per statement and creator (a sync touching 100,000
-- creators sends one notification each, not one per row); subscribers read their rows.
create function loyalty_progress_notify() returns trigger
  language plpgsql
  as $$
declare
  r record;
begin
  for r in select distinct tenant_id, user_id from changed loop
    -- The transaction's id tells one transaction's change from the next one's.
    perform allot_notify('loyalty.progress:' || r.user_id, 'PROGRESS_CHANGED', null,
      txid_current(), r.tenant_id);
  end loop;
  return null;
end
$$;

create trigger loyalty_progress_notify_insert after insert on loyalty_progress
  referencing new table as changed
  for each statement execute function loyalty_progress_notify();
create trigger loyalty_progress_notify_update after update on loyalty_progress
  referencing new table as changed
  for each statement execute function loyalty_progress_notify();
