-- name: ensure_tenant
insert into tenants (tenant_id) values (allot_tenant()) on conflict do nothing

-- name: ping
select 1
