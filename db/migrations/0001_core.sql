-- Core: the app role, tenancy helpers, the one realtime channel.

-- The app connects as allot_app, which owns nothing, so row-level security always applies.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'allot_app') then
    begin
      create role allot_app nologin;
    exception when duplicate_object or unique_violation then
      null;  -- another database of this cluster created it at the same moment
    end;
  end if;
end
$$;

do $$
begin
  execute format('grant allot_app to %I', current_user);
exception when insufficient_privilege or invalid_grant_operation then
  null;  -- superusers and existing members need no grant
end
$$;

grant usage on schema public to allot_app;
grant select on schema_migrations to allot_app;
alter default privileges in schema public grant select, insert, update, delete on tables to allot_app;
alter default privileges in schema public grant usage, select on sequences to allot_app;
alter default privileges in schema public grant execute on functions to allot_app;

-- The tenant of the current transaction (set by every service transaction), or null.
create or replace function allot_tenant() returns uuid
  language sql stable
  as $$ select nullif(current_setting('allot.tenant_id', true), '')::uuid $$;

-- Enable and force row-level security on a tenant table: rows are visible and
-- writable only inside a transaction of their tenant.
create or replace function allot_enable_rls(tbl regclass) returns void
  language plpgsql
  as $$
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('alter table %s force row level security', tbl);
  execute format(
    'create policy tenant_isolation on %s using (tenant_id = allot_tenant())'
    ' with check (tenant_id = allot_tenant())', tbl);
end
$$;

create table tenants (
  tenant_id  uuid primary key default allot_tenant(),
  created_at timestamptz not null default now()
);
select allot_enable_rls('tenants');

-- Every realtime event goes through here, on one channel, IDs only (never row contents).
create or replace function allot_notify(topic text, kind text, id uuid, version bigint, tenant uuid)
  returns void
  language sql volatile
  as $$
    select pg_notify('allot_events', json_build_object(
      't', topic, 'k', kind, 'id', id, 'v', version, 'tn', tenant)::text)
  $$;
