-- Topics carry their area: 'floor:<restaurant>' becomes 'tables.floor:<restaurant>',
-- 'session:<session>' becomes 'tables.session:<session>', 'tables:holds' becomes
-- 'tables.holds' (services/tables/live.py TOPICS). The bodies are those of 0002 and 0006 but
-- for the topic strings.

create or replace function tables_allocations_notify() returns trigger
  language plpgsql
  as $$
declare
  k text;
begin
  if tg_op = 'INSERT' then
    k := case new.kind when 'HOLD' then 'HOLD_PLACED' else 'ASSIGNED' end;
  elsif new.released_at is not null and old.released_at is null then
    k := case
      when new.kind = 'ASSIGNMENT' then 'UNASSIGNED'
      when new.release_reason = 'EXPIRED' then 'HOLD_EXPIRED'
      else 'HOLD_RELEASED'
    end;
  elsif new.released_at is null and new.kind = 'ASSIGNMENT' and old.kind = 'HOLD' then
    k := 'ASSIGNED';
  elsif new.released_at is null and new.kind = 'HOLD' then
    k := 'HOLD_PLACED';  -- the hold was extended
  else
    return null;
  end if;
  perform allot_notify('tables.floor:' || new.restaurant_id, k, new.id, new.version, new.tenant_id);
  return null;
end
$$;

create or replace function tables_bookings_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'tables.floor:' || new.restaurant_id, 'BOOKING_CHANGED', new.id, new.version, new.tenant_id);
  return null;
end
$$;

create or replace function tables_sessions_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'tables.session:' || new.id, new.status, new.id, new.version, new.tenant_id);
  -- Wakes every process's hold expirer when a hold is placed or moved.
  if new.status = 'HELD' and (tg_op = 'INSERT' or old.status <> 'HELD'
      or old.hold_expires_at is distinct from new.hold_expires_at) then
    perform allot_notify('tables.holds', 'HELD', new.id, new.version, new.tenant_id);
  end if;
  return null;
end
$$;

create or replace function tables_dining_tables_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'tables.floor:' || new.restaurant_id, 'TABLE_CHANGED', new.id, new.version, new.tenant_id);
  return null;
end
$$;
