-- A table's changes reach the floor: a new table, or an edit of its label, zone, capacities or
-- whether it is in service (updateDiningTable), notifies the restaurant's floor topic.
create function tables_dining_tables_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'floor:' || new.restaurant_id, 'TABLE_CHANGED', new.id, new.version, new.tenant_id);
  return null;
end
$$;
create trigger dining_tables_notify after insert or update on dining_tables
  for each row execute function tables_dining_tables_notify();
