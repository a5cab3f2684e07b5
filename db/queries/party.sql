-- Party: parties, participants, missions and the plan's slots. Every query runs inside a
-- tenant transaction (row-level security scopes it to the caller's tenant).

-- name: insert_party
insert into parties (name) values ($1) returning id

-- name: lock_party
-- The party, locked against concurrent setup and assigns (every change of a party takes it).
select id, participant_count, mission_count from parties where id = $1 for update

-- name: user_ids_taken
-- Which of these user ids are already guests of the party.
select user_id from party_participants where party_id = $1 and user_id = any($2::text[])

-- name: insert_participants
-- A batch of guests, positioned after those the party already has.
insert into party_participants (party_id, position, user_id, display_name)
select :party_id, :first_position + t.ord - 1, t.user_id, t.display_name
from unnest(:user_ids::text[], :display_names::text[]) with ordinality as t(user_id, display_name, ord)

-- name: insert_missions
-- A batch of missions for the pool, positioned after those the party already has.
insert into party_missions (party_id, position, type, title, detail)
select :party_id, :first_position + t.ord - 1, t.type, t.title, t.detail
from unnest(:types::text[], :titles::text[], :details::text[]) with ordinality as t(type, title, detail, ord)

-- name: count_changed
-- The party after a setup batch: the counts, and a new version (its trigger notifies).
update parties
set participant_count = participant_count + $2, mission_count = mission_count + $3,
    version = version + 1
where id = $1

-- name: plan_participants
-- The guests a plan covers: all of them, in the order they were added.
select id from party_participants where party_id = $1 order by position

-- name: plan_missions
-- The pool as the planner sees it.
select id, type, uses from party_missions where party_id = $1 order by position

-- name: plan_previous
-- The plan about to be replaced, as (participant, mission) pairs.
select participant_id, mission_id from party_slots where party_id = $1

-- name: write_plan
-- The whole plan in one statement: the previous one deleted, the new slots inserted, the
-- missions it uses counted, the party's plan fields set and its version bumped. The deferred
-- party_check_plan trigger checks the result at commit.
with cleared as (
  delete from party_slots where party_id = :party_id
  returning 1
),
inserted as (
  insert into party_slots (party_id, mission_id, mission_type, slot, role, participant_id)
  select :party_id, s.mission_id, s.mission_type, s.slot, s.role, s.participant_id
  from unnest(:mission_ids::uuid[], :mission_types::text[], :slots::int[], :roles::text[],
              :participant_ids::uuid[])
    as s(mission_id, mission_type, slot, role, participant_id)
  where (select count(*) from cleared) >= 0  -- after the delete
  returning mission_id
),
used as (
  update party_missions m set uses = uses + 1
  where m.id in (select distinct mission_id from inserted)
  returning 1
)
update parties
set assigned_at = now(),
    missions_per_participant = :missions_per_participant,
    min_distinct_types = :min_distinct_types,
    planned_participants = :planned_participants,
    version = version + 1
where id = :party_id and (select count(*) from used) >= 0
returning (select count(*) from inserted)::int as assigned_slots

-- name: party_view
-- The party as its readers get it (party_party_views), and whether $2 is one of its guests
-- (null $2: no one).
select v.*,
       exists (select 1 from party_participants pp
               where pp.party_id = v.id and pp.user_id = $2) as member
from party_party_views v
where v.id = $1

-- name: party_guest
-- The party, if it is the tenant's, and the participant $2 is in it (null: not a guest).
select (select pp.id from party_participants pp where pp.party_id = p.id and pp.user_id = $2)
         as guest_id
from parties p where p.id = $1

-- name: any_party
select exists (select 1 from parties)

-- name: demo_party
select id from parties order by created_at limit 1
