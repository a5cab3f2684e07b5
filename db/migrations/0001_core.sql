-- Core: the app role, tenancy helpers, the one realtime channel.

-- Requests run as allot_app, which owns nothing, so row-level security always applies.
-- Cross-tenant housekeeping (for example expiring holds) runs as allot_system, which
-- sees only the tables and rows a migration opens to it with an explicit policy.
do $$
declare
  r text;
begin
  foreach r in array array['allot_app', 'allot_system'] loop
    if not exists (select 1 from pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin', r);
      exception when duplicate_object or unique_violation then
        null;  -- another database of this cluster created it at the same moment
      end;
    end if;
    begin
      execute format('grant %I to %I', r, current_user);
    exception when insufficient_privilege or invalid_grant_operation then
      null;  -- superusers and existing members need no grant
    end;
  end loop;
end
$$;

grant usage on schema public to allot_app, allot_system;
grant select on schema_migrations to allot_app;
alter default privileges in schema public grant select, insert, update, delete on tables to allot_app;
alter default privileges in schema public grant usage, select on sequences to allot_app;
alter default privileges in schema public grant execute on functions to allot_app, allot_system;

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

-- Open a tenant table to allot_system: every row, the given privileges, nothing else.
create or replace function allot_system_access(tbl regclass, privileges text) returns void
  language plpgsql
  as $$
begin
  execute format('grant %s on %s to allot_system', privileges, tbl);
  execute format('create policy system_access on %s to allot_system using (true) with check (true)', tbl);
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
