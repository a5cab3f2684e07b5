-- Tasks: work projects with ordered steps, tasks that move through them, worker profiles,
-- presence, and the assignments of tasks to workers.
--
-- What concurrent requests could race is held here: one active assignment per task and step
-- (a partial unique index), nobody gets a task and step twice (UNIQUE (user, task, step), any
-- status: a worker who rejected a task never gets it back). Cross-step exclusion and a
-- worker's maximum of concurrent assignments are checked by the service under row locks (the
-- task, the worker's profile) in the writing transaction.
-- Realtime: a worker's assignments on 'tasks.assignments:<user id>' (at commit, with the
-- assignment as it committed, tasks_assignment_views), a project's queue on
-- 'tasks.queue:<project id>' (once per statement that changes its tasks).

create table work_projects (
  id                          uuid primary key default gen_random_uuid(),
  tenant_id                   uuid not null default allot_tenant() references tenants (tenant_id),
  name                        text not null,
  steps                       text[] not null,
  strategy                    text not null,
  max_concurrent_per_user     integer,
  cross_step_exclusions       jsonb not null default '[]',  -- [["annotate", "review"], ...]
  cooldown_minutes            integer not null default 0,
  reservation_timeout_seconds integer not null default 300,
  hybrid_weight               double precision not null default 0.5,
  created_at                  timestamptz not null default now(),
  constraint work_projects_name check (
    char_length(name) between 1 and 200 and name = btrim(name) and name !~ '[[:cntrl:]]'),
  constraint work_projects_steps check (
    array_ndims(steps) = 1 and cardinality(steps) between 1 and 20),
  constraint work_projects_strategy check (
    strategy in ('ROUND_ROBIN', 'CAPACITY_BASED', 'PERFORMANCE_WEIGHTED', 'HYBRID')),
  constraint work_projects_max_concurrent check (max_concurrent_per_user >= 1),
  constraint work_projects_cooldown check (cooldown_minutes between 0 and 10080),
  constraint work_projects_reservation check (reservation_timeout_seconds between 1 and 86400),
  constraint work_projects_hybrid_weight check (hybrid_weight between 0 and 1)
);
select allot_enable_rls('work_projects');

create table work_tasks (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null default allot_tenant(),
  project_id     uuid not null references work_projects (id) on delete cascade,
  step_id        text not null,
  priority       integer not null default 0,
  required_skills text[] not null default '{}',
  payload        jsonb,
  status         text not null default 'OPEN',
  cooldown_until timestamptz,
  version        bigint not null default 1,
  created_at     timestamptz not null default clock_timestamp(),
  constraint work_tasks_status check (status in ('OPEN', 'ASSIGNED', 'DONE')),
  constraint work_tasks_priority check (priority between -1000000 and 1000000)
);
select allot_enable_rls('work_tasks');
-- claimNextTask: the open tasks of a step, highest priority, then oldest.
create index work_tasks_queue on work_tasks (project_id, step_id, priority desc, created_at, id)
  where status = 'OPEN';

create table worker_profiles (
  tenant_id     uuid not null default allot_tenant(),
  user_id       text not null,
  skills        text[] not null default '{}',
  quality_score double precision,
  active        boolean not null default true,
  updated_at    timestamptz not null default now(),
  primary key (tenant_id, user_id),
  constraint worker_profiles_quality check (quality_score between 0 and 1),
  constraint worker_profiles_user_id check (
    char_length(user_id) between 1 and 200 and user_id = btrim(user_id))
);
select allot_enable_rls('worker_profiles');

create table worker_presence (
  tenant_id    uuid not null default allot_tenant(),
  project_id   uuid not null references work_projects (id) on delete cascade,
  user_id      text not null,
  last_seen_at timestamptz not null default now(),
  primary key (project_id, user_id)
);
select allot_enable_rls('worker_presence');

-- ROUND_ROBIN: who was assigned last at a project's step.
create table task_round_robin (
  tenant_id    uuid not null default allot_tenant(),
  project_id   uuid not null references work_projects (id) on delete cascade,
  step_id      text not null,
  last_user_id text not null,
  primary key (project_id, step_id)
);
select allot_enable_rls('task_round_robin');

create table task_assignments (
  id            uuid primary key default gen_random_uuid(),
  tenant_id     uuid not null default allot_tenant(),
  project_id    uuid not null references work_projects (id) on delete cascade,
  task_id       uuid not null references work_tasks (id) on delete cascade,
  step_id       text not null,
  user_id       text not null,
  status        text not null default 'ASSIGNED',
  reject_reason jsonb,
  expires_at    timestamptz,  -- an ASSIGNED reservation expires then unless accepted
  assigned_at   timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  version       bigint not null default 1,
  constraint task_assignments_once_per_user unique (user_id, task_id, step_id),
  constraint task_assignments_status check (status in (
    'ASSIGNED', 'ACCEPTED', 'IN_PROGRESS', 'SUBMITTED', 'EXPIRED', 'REASSIGNED', 'REJECTED')),
  constraint task_assignments_reservation check ((status = 'ASSIGNED') = (expires_at is not null)),
  constraint task_assignments_reject_reason check ((status = 'REJECTED') = (reject_reason is not null))
);
select allot_enable_rls('task_assignments');
create unique index task_assignments_one_active on task_assignments (task_id, step_id)
  where status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS');
create index task_assignments_of_user on task_assignments (user_id, project_id)
  where status in ('ASSIGNED', 'ACCEPTED', 'IN_PROGRESS');
create index task_assignments_due on task_assignments (expires_at) where status = 'ASSIGNED';
create index task_assignments_of_task on task_assignments (task_id);
-- assignTask's view of a project's workers: their assignments in the project, and the latest.
create index task_assignments_of_project on task_assignments (project_id, user_id, assigned_at);

-- The reservation expirer (services/tasks/workers.py) runs across tenants as allot_system.
select allot_system_access('task_assignments', 'select, update');
select allot_system_access('work_tasks', 'select, update');
select allot_system_access('work_projects', 'select');

-- An assignment as answers and events give it, with its task (services/tasks/reads.py).
create view tasks_assignment_views with (security_invoker = true) as
select a.id, a.step_id, a.user_id, a.status, a.reject_reason, a.expires_at, a.assigned_at,
       a.updated_at, a.version,
       t.id as task_id, t.project_id, t.step_id as task_step_id, t.priority, t.required_skills,
       t.payload, t.status as task_status, t.cooldown_until, t.version as task_version
from task_assignments a join work_tasks t on t.id = a.task_id;
grant select on tasks_assignment_views to allot_system;

create function tasks_assignment_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'tasks.assignments:' || new.user_id, 'ASSIGNMENT_CHANGED', new.id, new.version, new.tenant_id,
    case when allot_notify_rows() then
      (select jsonb_agg(to_jsonb(v)) from tasks_assignment_views v where v.id = new.id)
    end);
  return null;
end
$$;

create constraint trigger task_assignments_notify after insert or update on task_assignments
  deferrable initially deferred
  for each row execute function tasks_assignment_notify();

-- The queue's counts changed: once per statement and project (a bulk insert of 10,000 tasks
-- is one event), no rows (subscribers read the counts).
create function tasks_queue_notify() returns trigger
  language plpgsql
  as $$
declare
  r record;
begin
  for r in select distinct project_id, tenant_id from changed loop
    -- The transaction's id tells one transaction's change from the next one's.
    perform allot_notify('tasks.queue:' || r.project_id, 'QUEUE_CHANGED', r.project_id,
      txid_current(), r.tenant_id);
  end loop;
  return null;
end
$$;

create trigger work_tasks_queue_insert after insert on work_tasks
  referencing new table as changed
  for each statement execute function tasks_queue_notify();
create trigger work_tasks_queue_update after update on work_tasks
  referencing new table as changed
  for each statement execute function tasks_queue_notify();
