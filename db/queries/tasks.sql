-- Tasks: projects, tasks, worker profiles, presence and assignments. Every query runs inside a
-- tenant transaction (row-level security scopes it to the caller's tenant), but for the
-- reservation expirer's, which run as allot_system.

-- name: insert_project
insert into work_projects (name, steps, strategy, max_concurrent_per_user, cross_step_exclusions,
                           cooldown_minutes, reservation_timeout_seconds, hybrid_weight)
values (:project_name, :steps, :strategy, :max_concurrent_per_user, :cross_step_exclusions,
        :cooldown_minutes, :reservation_timeout_seconds, :hybrid_weight)
returning id

-- name: project
select id, name, steps, strategy, max_concurrent_per_user, cross_step_exclusions,
       cooldown_minutes, reservation_timeout_seconds, hybrid_weight
from work_projects where id = $1

-- name: projects
select id, name, steps, strategy, max_concurrent_per_user, cross_step_exclusions,
       cooldown_minutes, reservation_timeout_seconds, hybrid_weight
from work_projects order by created_at desc, id

-- name: insert_tasks
-- A batch of tasks, each at its first step or the one given; their ids in input order. Skills
-- and payloads come as one JSON array each (an array of arrays is not a Postgres array).
insert into work_tasks (project_id, step_id, priority, required_skills, payload, created_at)
select :project_id, t.step_id, t.priority,
       array(select jsonb_array_elements_text((:skills::jsonb) -> (t.ord::int - 1))),
       nullif((:payloads::jsonb) -> (t.ord::int - 1), 'null'::jsonb),
       clock_timestamp() + make_interval(secs => t.ord * 1e-6)  -- input order is age order
from unnest(:step_ids::text[], :priorities::int[]) with ordinality as t(step_id, priority, ord)
order by t.ord
returning id

-- name: tasks_by_id
select id, project_id, step_id, priority, required_skills, payload, status, cooldown_until, version
from work_tasks where id = any($1::uuid[])

-- name: upsert_profile
insert into worker_profiles (user_id, skills, quality_score, active)
values ($1, $2, $3, $4)
on conflict (tenant_id, user_id) do update
set skills = excluded.skills, quality_score = excluded.quality_score, active = excluded.active,
    updated_at = now()
returning user_id, skills, quality_score, active

-- name: lock_profile
-- The worker's profile, locked: a worker's claims and assignments queue here, so their count of
-- active assignments is read and raised by one transaction at a time.
select user_id, skills, quality_score, active from worker_profiles where user_id = $1 for update

-- name: lock_claimer
-- A claim's first step: the caller is present (claiming proves it), and their profile is
-- locked (their claims queue here; their count is read by the next statement, after the lock).
with seen as (
  insert into worker_presence (project_id, user_id) values ($1, $2)
  on conflict (project_id, user_id) do update set last_seen_at = now()
  returning 1
)
select p.active, (select count(*) from seen)::int as seen
from worker_profiles p where p.user_id = $2
for update of p

-- name: heartbeat
-- `announce`: the worker comes online, or was last announced more than $3 seconds ago.
insert into worker_presence as w (project_id, user_id, announced_at) values ($1, $2, now())
on conflict (project_id, user_id) do update
set last_seen_at = now(),
    announced_at = case when w.announced_at is null
                          or w.announced_at < now() - make_interval(secs => $3)
                        then now() else w.announced_at end
returning project_id, last_seen_at, announced_at = now() as announce

-- name: announce_presence
-- A worker online for project $1, on its queue topic (no row version: the transaction's id
-- keeps each announcement distinct).
select allot_notify('tasks.queue:' || $1::uuid, 'PRESENCE', $1::uuid, txid_current(), allot_tenant())

-- name: workers_online
-- The project's workers whose last heartbeat is younger than $2 seconds.
select user_id, last_seen_at from worker_presence
where project_id = $1 and last_seen_at > now() - make_interval(secs => $2)
order by user_id

-- name: workers
-- Every worker of the tenant with a profile, as assignment sees them for a project.
select p.user_id, p.skills, p.quality_score, p.active,
       coalesce(pr.last_seen_at > now() - make_interval(secs => $2), false) as present,
       coalesce(a.active_count, 0)::int as active_assignments,
       a.last_assigned_at
from worker_profiles p
left join worker_presence pr on pr.project_id = $1 and pr.user_id = p.user_id
left join (
  select user_id,
         count(*) filter (where status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS')) as active_count,
         max(assigned_at) as last_assigned_at
  from task_assignments where project_id = $1
  group by user_id
) a on a.user_id = p.user_id
order by p.user_id

-- name: worker
-- One worker as `workers` sees them (after their profile is locked).
select p.user_id, p.skills, p.quality_score, p.active,
       coalesce((select last_seen_at > now() - make_interval(secs => $3)
                 from worker_presence where project_id = $1 and user_id = p.user_id), false)
         as present,
       (select count(*) from task_assignments
         where project_id = $1 and user_id = p.user_id
           and status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS'))::int as active_assignments,
       (select max(assigned_at) from task_assignments
         where project_id = $1 and user_id = p.user_id) as last_assigned_at
from worker_profiles p where p.user_id = $2

-- name: lock_task
select id, project_id, step_id, priority, required_skills, payload, status, cooldown_until, version
from work_tasks where id = $1 for update

-- name: task
select id, project_id, step_id, priority, required_skills, payload, status, cooldown_until, version
from work_tasks where id = $1

-- name: latest_assignment_of_task
select id from task_assignments where task_id = $1 order by assigned_at desc, id limit 1

-- name: cursor
select last_user_id from task_round_robin where project_id = $1 and step_id = $2

-- name: task_history
select user_id, step_id, status from task_assignments where task_id = $1 order by assigned_at

-- name: active_assignment_of_task
select id from task_assignments
where task_id = $1 and step_id = $2 and status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS')

-- name: lock_cursor
select last_user_id from task_round_robin where project_id = $1 and step_id = $2 for update

-- name: set_cursor
insert into task_round_robin (project_id, step_id, last_user_id) values ($1, $2, $3)
on conflict (project_id, step_id) do update set last_user_id = excluded.last_user_id

-- name: claim_candidate
-- The highest-priority, then oldest, open task of the step that the caller may take: skills
-- covered, never had at this step, not excluded by a paired step, not cooling down. Locked
-- with SKIP LOCKED, so concurrent claims take different tasks and never wait on each other.
select t.id, t.project_id, t.step_id, t.priority, t.required_skills, t.payload, t.status,
       t.cooldown_until, t.version,
       (select coalesce(jsonb_agg(jsonb_build_array(a.user_id, a.step_id, a.status)), '[]')
          from task_assignments a where a.task_id = t.id) as history
from work_tasks t
where t.project_id = :project_id and t.step_id = :step_id and t.status = 'OPEN'
  and t.required_skills <@ :skills::text[]
  and (t.cooldown_until is null or t.cooldown_until <= now())
  and t.id <> all(:skip::uuid[])
  and not exists (
    select 1 from task_assignments a
    where a.task_id = t.id and a.user_id = :user_id
      and (a.step_id = t.step_id
           or (a.step_id = any(:excluding_steps::text[])
               and a.status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS', 'SUBMITTED'))))
order by t.priority desc, t.created_at, t.id
limit 1
for update of t skip locked

-- name: insert_assignment
-- Reserve the task at its step for the worker, and take it from the pool: the assignment as
-- tasks_assignment_views shows it (a view cannot see rows this statement writes).
with assigned as (
  insert into task_assignments (project_id, task_id, step_id, user_id, expires_at)
  values (:project_id, :task_id, :step_id, :user_id,
          now() + make_interval(secs => :reservation_seconds))
  returning *
),
taken as (
  update work_tasks set status = 'ASSIGNED', version = version + 1
  where id = :task_id
  returning *
)
select a.id, a.step_id, a.user_id, a.status, a.reject_reason, a.expires_at, a.assigned_at,
       a.updated_at, a.version,
       t.id as task_id, t.project_id, t.step_id as task_step_id, t.priority, t.required_skills,
       t.payload, t.status as task_status, t.cooldown_until, t.version as task_version
from assigned a, taken t

-- name: lock_assignment
select a.id, a.task_id, a.project_id, a.step_id, a.user_id, a.status, a.expires_at,
       a.expires_at <= now() as reservation_over
from task_assignments a where a.id = $1 for update

-- name: move_assignment
update task_assignments
set status = $2, reject_reason = $3, updated_at = now(), version = version + 1,
    expires_at = case when $2 = 'ASSIGNED' then expires_at end
where id = $1

-- name: task_freed
-- The task is back in the pool at its step (rejected, expired, released), cooling down for
-- $2 minutes when the project says so.
update work_tasks
set status = 'OPEN', version = version + 1,
    cooldown_until = case when $2 > 0 then now() + make_interval(mins => $2) else cooldown_until end
where id = $1

-- name: task_advanced
-- The task's step is done: on to the next step ($2), or DONE after the last (null).
update work_tasks
set step_id = coalesce($2, step_id), status = case when $2 is null then 'DONE' else 'OPEN' end,
    version = version + 1
where id = $1

-- name: assignment_views
select * from tasks_assignment_views where id = any($1::uuid[])

-- name: my_assignments
select * from tasks_assignment_views
where user_id = $1 and ($2::text is null or status = $2)
order by assigned_at desc, id

-- name: my_active_assignments
select * from tasks_assignment_views
where user_id = $1 and status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS')
order by assigned_at, id

-- name: queue_counts
select step_id, status, count(*)::int as count
from work_tasks where project_id = $1
group by step_id, status

-- name: any_project
select exists (select 1 from work_projects)

-- name: demo_project
select id from work_projects order by created_at limit 1

-- ------------------------------------------------------------------ the reservation expirer

-- name: expire_due
-- Reservations past their deadline, a batch at a time, skipping any a transaction holds (an
-- accept at the same moment): EXPIRED, and their tasks back in the pool (cooling down when the
-- project says so), in one statement. Runs as allot_system.
with due as (
  select a.id, a.task_id
  from task_assignments a
  where a.status = 'ASSIGNED' and a.expires_at <= now()
  order by a.expires_at
  limit $1
  for update skip locked
),
expired as (
  update task_assignments a
  set status = 'EXPIRED', expires_at = null, updated_at = now(), version = a.version + 1
  from due where a.id = due.id
  returning a.task_id
)
update work_tasks t
set status = 'OPEN', version = t.version + 1,
    cooldown_until = case when p.cooldown_minutes > 0
      then now() + make_interval(mins => p.cooldown_minutes) else t.cooldown_until end
from expired e, work_projects p
where t.id = e.task_id and p.id = t.project_id and t.status = 'ASSIGNED'
returning t.id

-- name: seconds_to_next_reservation
select extract(epoch from (min(expires_at) - clock_timestamp()))::float8
from task_assignments where status = 'ASSIGNED'
