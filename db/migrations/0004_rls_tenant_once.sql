-- Row-level security evaluates the tenant once per statement, not once per row: the policy
-- compares with `(select allot_tenant())`, which Postgres runs once (an init plan) and passes
-- to index scans, instead of reading and parsing the setting for every row it looks at.
create or replace function allot_enable_rls(tbl regclass) returns void
  language plpgsql
  as $$
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('alter table %s force row level security', tbl);
  execute format(
    'create policy tenant_isolation on %s using (tenant_id = (select allot_tenant()))'
    ' with check (tenant_id = (select allot_tenant()))', tbl);
end
$$;

do $$
declare
  t record;
begin
  for t in select schemaname, tablename from pg_policies where policyname = 'tenant_isolation'
  loop
    execute format(
      'alter policy tenant_isolation on %I.%I using (tenant_id = (select allot_tenant()))'
      ' with check (tenant_id = (select allot_tenant()))', t.schemaname, t.tablename);
  end loop;
end
$$;
