-- Party: parties, their guests (participants), a pool of missions, and the plan (slots).
--
-- A mission has one slot per role of its type (BOOK: RED, BLUE; PASSPHRASE: RECEIVER,
-- SENDER, SENDER; OBJECT: AGENT); a plan fills slots with participants. The service plans a
-- whole party and writes it in one statement; the constraints here and a deferred check at
-- commit (party_check_plan) hold the hard rules whatever is written:
--   every participant of the plan is in exactly missions_per_participant missions, of at
--   least min_distinct_types types; a mission the plan uses has all of its slots filled, one
--   it does not use has none; nobody holds two roles of one mission.
-- Realtime events go out at commit on topic 'party.party:<id>', with the party as it
-- committed (party_party_views) when it fits.

create table parties (
  id                       uuid primary key default gen_random_uuid(),
  tenant_id                uuid not null default allot_tenant() references tenants (tenant_id),
  name                     text not null,
  participant_count        integer not null default 0,
  mission_count            integer not null default 0,
  -- The current plan (all null until the first assign): its rules and how many of the
  -- party's first participants (by position) it covers.
  assigned_at              timestamptz,
  missions_per_participant integer,
  min_distinct_types       integer,
  planned_participants     integer,
  version                  bigint not null default 1,
  created_at               timestamptz not null default now(),
  constraint parties_name check (
    char_length(name) between 1 and 100 and name = btrim(name) and name !~ '[[:cntrl:]]'),
  constraint parties_participant_limit check (participant_count between 0 and 10000),
  constraint parties_mission_limit check (mission_count between 0 and 50000),
  constraint parties_plan_fields check (
    (assigned_at is null) = (missions_per_participant is null)
    and (assigned_at is null) = (min_distinct_types is null)
    and (assigned_at is null) = (planned_participants is null)
    and planned_participants between 1 and participant_count
    and missions_per_participant >= 1 and min_distinct_types between 1 and 3)
);
select allot_enable_rls('parties');

create table party_participants (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null default allot_tenant(),
  party_id     uuid not null references parties (id) on delete cascade,
  position     integer not null,  -- 0, 1, 2 ... in the order they were added
  user_id      text not null,
  display_name text not null,
  constraint party_participants_one_per_user unique (party_id, user_id),
  constraint party_participants_position unique (party_id, position),
  constraint party_participants_of_party unique (id, party_id),
  constraint party_participants_position_range check (position >= 0),
  constraint party_participants_user_id check (
    char_length(user_id) between 1 and 200 and user_id = btrim(user_id)),
  constraint party_participants_display_name check (
    char_length(display_name) between 1 and 60
    and display_name = btrim(display_name)
    and display_name !~ '[[:cntrl:]]')
);
select allot_enable_rls('party_participants');

create table party_missions (
  id        uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default allot_tenant(),
  party_id  uuid not null references parties (id) on delete cascade,
  position  integer not null,  -- in the order they were added
  type      text not null,
  title     text not null,
  detail    text not null,
  uses      integer not null default 0,  -- how many plans have used it (spreads re-plans)
  constraint party_missions_position unique (party_id, position),
  constraint party_missions_of_party unique (id, party_id, type),
  constraint party_missions_type check (type in ('BOOK', 'PASSPHRASE', 'OBJECT')),
  constraint party_missions_title check (
    char_length(title) between 1 and 200 and title = btrim(title) and title !~ '[[:cntrl:]]'),
  constraint party_missions_detail check (char_length(detail) between 1 and 2000),
  constraint party_missions_uses check (uses >= 0)
);
select allot_enable_rls('party_missions');

create table party_slots (
  tenant_id      uuid not null default allot_tenant(),
  party_id       uuid not null,
  mission_id     uuid not null,
  mission_type   text not null,
  slot           integer not null,
  role           text not null,
  participant_id uuid not null,
  primary key (mission_id, slot),
  constraint party_slots_mission foreign key (mission_id, party_id, mission_type)
    references party_missions (id, party_id, type) on delete cascade,
  constraint party_slots_participant foreign key (participant_id, party_id)
    references party_participants (id, party_id) on delete cascade,
  constraint party_slots_one_role_per_participant unique (mission_id, participant_id),
  constraint party_slots_role_of_type check (
    (mission_type, slot, role) in (
      ('BOOK', 0, 'RED'), ('BOOK', 1, 'BLUE'),
      ('PASSPHRASE', 0, 'RECEIVER'), ('PASSPHRASE', 1, 'SENDER'), ('PASSPHRASE', 2, 'SENDER'),
      ('OBJECT', 0, 'AGENT')))
);
select allot_enable_rls('party_slots');
create index party_slots_party on party_slots (party_id, participant_id);

-- The hard rules of a party's plan, checked once per party and transaction, at commit (a
-- deferred constraint trigger on every slot written or deleted, and on the party's plan
-- fields): whatever the statements wrote, a plan that breaks a rule never lands.
create function party_check_plan() returns trigger
  language plpgsql
  as $$
declare
  pid uuid;
  checked text := coalesce(current_setting('allot.party_checked', true), '');
  p record;
  bad record;
begin
  if tg_table_name = 'parties' then
    pid := new.id;
  elsif tg_op = 'DELETE' then
    pid := old.party_id;
  else
    pid := new.party_id;
  end if;
  if strpos(checked, pid::text) > 0 then
    return null;  -- this party is already checked in this transaction: all rows are written
  end if;
  perform set_config('allot.party_checked', checked || pid::text || ' ', true);

  select * into p from parties where id = pid;
  if not found then
    return null;  -- the party itself is being deleted
  end if;
  if p.assigned_at is null then
    if exists (select 1 from party_slots where party_id = pid) then
      raise exception 'party %: slots are filled but no plan is recorded', pid
        using errcode = 'check_violation', constraint = 'party_plan_recorded';
    end if;
    return null;
  end if;

  -- Each check reads the party's slots alone (no join that fresh statistics could make
  -- quadratic), or joins them to a primary key.
  select mission_id, mission_type, count(*) as filled into bad
  from party_slots
  where party_id = pid
  group by mission_id, mission_type
  having count(*) <> case mission_type when 'BOOK' then 2 when 'PASSPHRASE' then 3 else 1 end
  limit 1;
  if found then
    raise exception 'mission % (%) has % of its slots filled: a mission is filled whole or not at all',
      bad.mission_id, bad.mission_type, bad.filled
      using errcode = 'check_violation', constraint = 'party_plan_missions_whole';
  end if;

  select participant_id, count(*) as missions, count(distinct mission_type) as types into bad
  from party_slots
  where party_id = pid
  group by participant_id
  having count(*) <> p.missions_per_participant
      or count(distinct mission_type) < p.min_distinct_types
  limit 1;
  if found then
    raise exception 'participant % has % missions of % types; the plan gives everyone % of at least % types',
      bad.participant_id, bad.missions, bad.types, p.missions_per_participant, p.min_distinct_types
      using errcode = 'check_violation', constraint = 'party_plan_missions_per_participant';
  end if;

  -- The plan covers exactly the party's first planned_participants guests (by position).
  select count(*) as holders, count(*) filter (where pp.position < p.planned_participants) as first
  into bad
  from (select distinct participant_id from party_slots where party_id = pid) h
  join party_participants pp on pp.id = h.participant_id;
  if bad.holders <> p.planned_participants or bad.first <> p.planned_participants then
    raise exception 'the plan covers % guests (% of the first %); it must cover each of them',
      bad.holders, bad.first, p.planned_participants
      using errcode = 'check_violation', constraint = 'party_plan_missions_per_participant';
  end if;
  return null;
end
$$;

create constraint trigger party_slots_check after insert or update or delete on party_slots
  deferrable initially deferred
  for each row execute function party_check_plan();

create constraint trigger parties_check after update on parties
  deferrable initially deferred
  for each row
  when (old.assigned_at is distinct from new.assigned_at
        or old.missions_per_participant is distinct from new.missions_per_participant
        or old.min_distinct_types is distinct from new.min_distinct_types
        or old.planned_participants is distinct from new.planned_participants)
  execute function party_check_plan();

-- The party as its readers get it (services/party/reads.py party_of_row): participants in
-- order as [id, user id, display name], missions in order as
-- [id, type, title, detail, [participant id of each slot, or null]].
create view party_party_views with (security_invoker = true) as
select p.id, p.name, p.assigned_at, p.version,
       (select jsonb_agg(jsonb_build_array(pp.id, pp.user_id, pp.display_name)
                         order by pp.position)
          from party_participants pp where pp.party_id = p.id) as participants,
       (select jsonb_agg(jsonb_build_array(m.id, m.type, m.title, m.detail,
                 (select jsonb_agg(s.participant_id order by s.slot)
                    from party_slots s where s.mission_id = m.id))
               order by m.position)
          from party_missions m where m.party_id = p.id) as missions
from parties p;
grant select on party_party_views to allot_system;

-- One event per committed change of a party: its guests, its pool, or its plan.
create function party_notify() returns trigger
  language plpgsql
  as $$
declare
  k text;
begin
  k := case
    when new.assigned_at is distinct from old.assigned_at then 'MISSIONS_ASSIGNED'
    when new.participant_count <> old.participant_count then 'PARTICIPANTS_CHANGED'
    else 'MISSIONS_CHANGED'
  end;
  perform allot_notify(
    'party.party:' || new.id, k, new.id, new.version, new.tenant_id,
    -- A party of more than a few dozen guests and missions never fits in a notification:
    -- its readers read it back, and the writer does not build it for nothing.
    case when allot_notify_rows() and new.participant_count + new.mission_count <= 80 then
      (select jsonb_agg(to_jsonb(v)) from party_party_views v where v.id = new.id)
    end);
  return null;
end
$$;

create constraint trigger parties_notify after update on parties
  deferrable initially deferred
  for each row when (old.version is distinct from new.version)
  execute function party_notify();
