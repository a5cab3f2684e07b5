"""Tasks: work projects with ordered steps (annotate, review, ...), tasks that move through
them, and workers who take them. Admins push a task to the best eligible worker under the
project's strategy, or workers pull the next one (highest priority, then oldest) with
claimNextTask; a reservation not accepted in time expires and the task returns to the pool.
The rules that concurrent requests could race (one active assignment per task and step,
nobody gets a task and step twice, cross-step exclusion, at most maxConcurrentPerUser) are
held by constraints and row locks in the writing transaction. Workers follow their own
assignments live, dashboards the queue's counts."""
