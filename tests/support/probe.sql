-- A test-only watched table: tenant-scoped, RLS, a trigger that notifies like every area's.
create table probe_items (
  id        uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default allot_tenant(),
  label     text not null,
  version   bigint not null default 1
);
select allot_enable_rls('probe_items');

create function probe_items_notify() returns trigger language plpgsql as $$
begin
  perform allot_notify('probe:' || new.tenant_id, lower(tg_op), new.id, new.version, new.tenant_id,
    case when allot_notify_rows() then jsonb_build_array(to_jsonb(new)) end);
  return new;
end
$$;

create trigger probe_items_notify after insert or update on probe_items
  for each row execute function probe_items_notify();
