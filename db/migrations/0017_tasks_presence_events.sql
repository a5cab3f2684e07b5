-- Tasks: a live queue board shows the workers online. A heartbeat announces its worker on the
-- project's queue topic when they come online, and again whenever the last announcement is
-- older than half the presence window (services/tasks/flows.py heartbeat), so a board that
-- drops a worker at lastSeenAt + ALLOT_PRESENCE_SECONDS keeps them while they heartbeat.
alter table worker_presence add column announced_at timestamptz;
