"""Task-assignment rules: each exclusion, each strategy's choice, explain agreeing with choose,
and the full assignment state machine. Pure and fast; properties by hypothesis."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tasks.errors import InvalidTransition
from services.tasks.model import (
    ACTIVE,
    AssignmentConfig,
    AssignmentStatus,
    LoadBalancingStrategy,
)
from services.tasks.rules import (
    TRANSITIONS,
    Action,
    PastAssignment,
    TaskScope,
    Worker,
    choose,
    exclusions,
    explain,
    free_capacity,
    next_step,
    ordinal,
    past_tense,
    quality,
    rank,
    score,
    transition,
)

NOW = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
S = AssignmentStatus
LB = LoadBalancingStrategy


def worker(
    user_id: str,
    skills: Sequence[str] = (),
    quality_score: float | None = None,
    *,
    active: bool = True,
    present: bool = True,
    n: int = 0,
    last: datetime | None = None,
) -> Worker:
    return Worker(user_id, frozenset(skills), quality_score, active, present, n, last)


def task(
    step: str = "review",
    skills: Sequence[str] = (),
    cooldown_until: datetime | None = None,
    history: Sequence[tuple[str, str, AssignmentStatus]] = (),
) -> TaskScope:
    return TaskScope(
        step, frozenset(skills), cooldown_until, tuple(PastAssignment(*h) for h in history)
    )


def config(strategy: LoadBalancingStrategy = LB.CAPACITY_BASED, **kw: object) -> AssignmentConfig:
    return AssignmentConfig(strategy, **kw)  # type: ignore[arg-type]


def why(w: Worker, t: TaskScope | None = None, c: AssignmentConfig | None = None) -> list[str]:
    return exclusions(w, t or task(), c or config(), NOW, need_presence=True)


def ids(ranked: Sequence[tuple[Worker, float]]) -> list[str]:
    return [w.user_id for w, _ in ranked]


# ------------------------------------------------------------------------------------ exclusions


def test_exclusions__fit_worker_is_eligible() -> None:
    assert why(worker("u", ["audio"]), task(skills=["audio"])) == []


def test_exclusions__inactive_profile() -> None:
    assert why(worker("u", active=False)) == ["profile is inactive"]


def test_exclusions__each_missing_skill_sorted() -> None:
    t = task(skills=["video", "audio", "text"])
    assert why(worker("u", ["text"]), t) == ["missing skill: audio", "missing skill: video"]


def test_exclusions__absent_only_when_presence_is_needed() -> None:
    w = worker("u", present=False)
    assert why(w) == ["not online (no recent heartbeat)"]
    assert exclusions(w, task(), config(), NOW, need_presence=False) == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (S.REJECTED, "already rejected this task"),
        (S.EXPIRED, "already had this task at review (expired)"),
        (S.REASSIGNED, "already had this task at review (reassigned)"),
        (S.ASSIGNED, "already holds this task at review"),
        (S.ACCEPTED, "already holds this task at review"),
        (S.IN_PROGRESS, "already holds this task at review"),
        (S.SUBMITTED, "already submitted this task at review"),
    ],
)
def test_exclusions__earlier_assignment_at_this_step__by_status(
    status: AssignmentStatus, reason: str
) -> None:
    assert why(worker("u"), task(history=[("u", "review", status)])) == [reason]


def test_exclusions__others_history_and_other_steps_do_not_exclude() -> None:
    t = task(history=[("v", "review", S.REJECTED), ("u", "annotate", S.SUBMITTED)])
    assert why(worker("u"), t) == []


def test_exclusions__same_status_twice_is_one_reason() -> None:
    t = task(history=[("u", "review", S.EXPIRED), ("u", "review", S.EXPIRED)])
    assert why(worker("u"), t) == ["already had this task at review (expired)"]


@pytest.mark.parametrize("pair", [("annotate", "review"), ("review", "annotate")])
@pytest.mark.parametrize("status", sorted(ACTIVE | {S.SUBMITTED}))
def test_exclusions__cross_step_pair_excludes_who_did_the_work__symmetric(
    pair: tuple[str, str], status: AssignmentStatus
) -> None:
    c = config(cross_step_exclusions=(pair,))
    at_review = task("review", history=[("u", "annotate", status)])
    assert why(worker("u"), at_review, c) == ["annotated this task; may not review it"]
    at_annotate = task("annotate", history=[("u", "review", status)])
    assert why(worker("u"), at_annotate, c) == ["reviewed this task; may not annotate it"]


@pytest.mark.parametrize("status", [S.REJECTED, S.EXPIRED, S.REASSIGNED])
def test_exclusions__cross_step_pair_ignores_who_did_not_do_the_work(
    status: AssignmentStatus,
) -> None:
    c = config(cross_step_exclusions=(("annotate", "review"),))
    assert why(worker("u"), task("review", history=[("u", "annotate", status)]), c) == []


def test_exclusions__cross_step_pair_without_this_step_does_not_apply() -> None:
    c = config(cross_step_exclusions=(("annotate", "qa"),))
    assert why(worker("u"), task("review", history=[("u", "annotate", S.SUBMITTED)]), c) == []


def test_exclusions__at_capacity() -> None:
    c = config(max_concurrent_per_user=3)
    assert why(worker("u", n=3), c=c) == ["at 3 of 3 active assignments"]
    assert why(worker("u", n=4), c=c) == ["at 4 of 3 active assignments"]
    assert why(worker("u", n=2), c=c) == []
    assert why(worker("u", n=99)) == []


def test_exclusions__cooling_down_until_utc_time() -> None:
    until = NOW + timedelta(minutes=5)
    assert why(worker("u"), task(cooldown_until=until)) == ["task is cooling down until 14:05 UTC"]
    assert why(worker("u"), task(cooldown_until=NOW)) == []
    assert why(worker("u"), task(cooldown_until=NOW - timedelta(seconds=1))) == []


def test_exclusions__every_reason_at_once_in_order() -> None:
    w = worker("u", ["text"], active=False, present=False, n=3)
    t = task(
        "review",
        ["video", "audio"],
        cooldown_until=NOW + timedelta(minutes=5),
        history=[("u", "review", S.REJECTED), ("u", "annotate", S.SUBMITTED)],
    )
    c = config(max_concurrent_per_user=3, cross_step_exclusions=(("annotate", "review"),))
    assert why(w, t, c) == [
        "profile is inactive",
        "missing skill: audio",
        "missing skill: video",
        "not online (no recent heartbeat)",
        "already rejected this task",
        "annotated this task; may not review it",
        "at 3 of 3 active assignments",
        "task is cooling down until 14:05 UTC",
    ]


def test_past_tense__adds_d_after_e_else_ed() -> None:
    assert [past_tense(s) for s in ("review", "annotate", "qa")] == [
        "reviewed",
        "annotated",
        "qaed",
    ]


# ------------------------------------------------------------------------------------ strategies

T0 = NOW - timedelta(hours=5)
TEAM = [
    worker("ann", quality_score=0.6, n=2, last=T0),
    worker("bob", quality_score=0.9, n=3, last=T0),
    worker("cat", quality_score=None, n=0, last=T0),
    worker("dan", quality_score=0.7, n=1, last=T0),
]


def test_capacity_based__fewest_active_first() -> None:
    c = config(LB.CAPACITY_BASED, max_concurrent_per_user=4)
    ranked = rank(TEAM, c, cursor=None)
    assert ids(ranked) == ["cat", "dan", "ann", "bob"]
    assert [s for _, s in ranked] == [1.0, 0.75, 0.5, 0.25]


def test_capacity_based__without_maximum_scores_one_over_one_plus_active() -> None:
    ranked = rank(TEAM, config(LB.CAPACITY_BASED), cursor=None)
    assert ids(ranked) == ["cat", "dan", "ann", "bob"]
    assert [s for _, s in ranked] == [1.0, 0.5, 1 / 3, 0.25]


def test_performance_weighted__highest_quality_first_unknown_as_zero() -> None:
    ranked = rank(TEAM, config(LB.PERFORMANCE_WEIGHTED), cursor=None)
    assert ids(ranked) == ["bob", "dan", "ann", "cat"]
    assert [s for _, s in ranked] == [0.9, 0.7, 0.6, 0.0]


def test_hybrid__weight_decides_between_free_and_good() -> None:
    free = worker("free", quality_score=0.2, n=0)  # free 1.0
    good = worker("good", quality_score=1.0, n=3)  # free 0.25
    pair = [good, free]
    heavy_free = config(LB.HYBRID, max_concurrent_per_user=4, hybrid_weight=0.9)
    heavy_quality = config(LB.HYBRID, max_concurrent_per_user=4, hybrid_weight=0.1)
    assert choose(pair, heavy_free, cursor=None) == free
    assert choose(pair, heavy_quality, cursor=None) == good
    assert rank(pair, heavy_free, cursor=None)[0][1] == pytest.approx(0.92)
    assert rank(pair, heavy_quality, cursor=None)[0][1] == pytest.approx(0.925)


def test_round_robin__next_after_cursor_wrapping() -> None:
    c = config(LB.ROUND_ROBIN)
    assert ids(rank(TEAM, c, cursor=None)) == ["ann", "bob", "cat", "dan"]
    assert ids(rank(TEAM, c, cursor="bob")) == ["cat", "dan", "ann", "bob"]
    assert ids(rank(TEAM, c, cursor="dan")) == ["ann", "bob", "cat", "dan"]
    assert ids(rank(TEAM, c, cursor="bz")) == ["cat", "dan", "ann", "bob"]  # gone since
    assert [s for _, s in rank(TEAM, c, cursor=None)] == [1.0, 0.75, 0.5, 0.25]


def test_round_robin__cycles_through_eligible_skipping_ineligible() -> None:
    c = config(LB.ROUND_ROBIN)
    team = [worker("dan"), worker("bob"), worker("cat", active=False), worker("ann")]
    t = task()
    cursor: str | None = None
    picked = []
    for _ in range(7):
        eligible = [w for w in team if not why(w, t, c)]
        chosen = choose(eligible, c, cursor=cursor)
        assert chosen is not None
        picked.append(chosen.user_id)
        cursor = chosen.user_id
    assert picked == ["ann", "bob", "dan", "ann", "bob", "dan", "ann"]


def test_choose__none_when_nobody_is_eligible() -> None:
    for strategy in LB:
        assert choose([], config(strategy), cursor="x") is None
        assert rank([], config(strategy), cursor="x") == []


@pytest.mark.parametrize("strategy", [LB.CAPACITY_BASED, LB.PERFORMANCE_WEIGHTED, LB.HYBRID])
def test_ties__longest_idle_first_then_user_id(strategy: LoadBalancingStrategy) -> None:
    team = [
        worker("a", quality_score=0.5, n=1, last=NOW - timedelta(minutes=1)),
        worker("b", quality_score=0.5, n=1, last=NOW - timedelta(hours=1)),
        worker("d", quality_score=0.5, n=1, last=None),
        worker("c", quality_score=0.5, n=1, last=None),
        worker("e", quality_score=0.5, n=1, last=NOW - timedelta(hours=1)),
    ]
    expected = ["c", "d", "b", "e", "a"]
    assert ids(rank(team, config(strategy), cursor=None)) == expected
    assert ids(rank(team[::-1], config(strategy), cursor=None)) == expected


# ---------------------------------------------------------------------------------- explanations


def test_explain__eligible_in_rank_order_then_ineligible_by_user_id() -> None:
    c = config(LB.CAPACITY_BASED, max_concurrent_per_user=3)
    team = [
        worker("zed", active=False),
        worker("bob", n=2),
        worker("amy", n=3),
        worker("cid", n=1),
        worker("abe", ["audio"]),
    ]
    got = explain(team, task(), c, NOW, cursor=None)
    assert [(e.user_id, e.eligible, e.score, e.reasons) for e in got] == [
        ("abe", True, 1.0, ("0 of 3 active assignments",)),
        ("cid", True, pytest.approx(2 / 3), ("1 of 3 active assignments",)),
        ("bob", True, pytest.approx(1 / 3), ("2 of 3 active assignments",)),
        ("amy", False, None, ("at 3 of 3 active assignments",)),
        ("zed", False, None, ("profile is inactive",)),
    ]


def test_explain__presence_needed_by_default_not_when_claiming() -> None:
    team = [worker("u", present=False)]
    got = explain(team, task(), config(), NOW, cursor=None)
    assert got[0].reasons == ("not online (no recent heartbeat)",)
    got = explain(team, task(), config(), NOW, cursor=None, need_presence=False)
    assert got[0].eligible and got[0].reasons == ("0 active assignments",)


def test_explain__reasons_per_strategy() -> None:
    a = worker("a", quality_score=0.9, n=1)
    b = worker("b", quality_score=None, n=0)
    c = worker("c", quality_score=0.1, n=4)

    def reasons(cfg: AssignmentConfig, cursor: str | None = None) -> list[tuple[str, ...]]:
        return [e.reasons for e in explain([a, b, c], task(), cfg, NOW, cursor=cursor)]

    assert reasons(config(LB.ROUND_ROBIN), cursor="a") == [
        ("next in turn",),
        ("2nd in turn",),
        ("3rd in turn",),
    ]
    assert reasons(config(LB.PERFORMANCE_WEIGHTED)) == [
        ("quality 0.90",),
        ("quality 0.10",),
        ("quality unknown (counts as 0.00)",),
    ]
    assert reasons(config(LB.CAPACITY_BASED)) == [
        ("0 active assignments",),
        ("1 active assignment",),
        ("4 active assignments",),
    ]
    hybrid = reasons(config(LB.HYBRID, max_concurrent_per_user=5, hybrid_weight=0.25))
    assert hybrid[0] == (
        "1 of 5 active assignments (free 0.80)",
        "quality 0.90",
        "weights 0.25 free capacity / 0.75 quality",
    )


def test_ordinal__english_suffixes() -> None:
    got = [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111)]
    assert got == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "101st",
        "111th",
    ]


# ------------------------------------------------------------------------------------ properties

STEPS = ("annotate", "review", "qa")
USERS = [f"u{i}" for i in range(8)]
SKILLS = ["audio", "text", "video"]
times = st.none() | st.integers(0, 5).map(lambda h: NOW - timedelta(hours=h))


@st.composite
def workers_st(draw: st.DrawFn) -> list[Worker]:
    names = draw(st.lists(st.sampled_from(USERS), unique=True, max_size=len(USERS)))
    return [
        Worker(
            user_id=name,
            skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=3))),
            quality_score=draw(st.none() | st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0])),
            active=draw(st.booleans()),
            present=draw(st.booleans()),
            active_assignments=draw(st.integers(0, 5)),
            last_assigned_at=draw(times),
        )
        for name in names
    ]


tasks_st = st.builds(
    TaskScope,
    step_id=st.sampled_from(STEPS),
    required_skills=st.frozensets(st.sampled_from(SKILLS), max_size=2),
    cooldown_until=st.none() | st.sampled_from([NOW - timedelta(minutes=1), NOW]),
    history=st.lists(
        st.builds(
            PastAssignment, st.sampled_from(USERS), st.sampled_from(STEPS), st.sampled_from(S)
        ),
        max_size=4,
    ).map(tuple),
)
configs_st = st.builds(
    AssignmentConfig,
    strategy=st.sampled_from(LB),
    max_concurrent_per_user=st.none() | st.integers(1, 4),
    cross_step_exclusions=st.sampled_from([(), (("annotate", "review"),), (("review", "qa"),)]),
    hybrid_weight=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
)
cursors = st.none() | st.sampled_from([*USERS, "u35"])
FAST = settings(max_examples=150, deadline=None)


def eligible_of(
    ws: Sequence[Worker], t: TaskScope, c: AssignmentConfig, presence: bool
) -> list[Worker]:
    return [w for w in ws if not exclusions(w, t, c, NOW, need_presence=presence)]


@FAST
@given(workers_st(), configs_st, cursors)
def test_rank__is_a_permutation_of_the_eligible(
    ws: list[Worker], c: AssignmentConfig, cursor: str | None
) -> None:
    ranked = rank(ws, c, cursor=cursor)
    assert sorted(ids(ranked)) == sorted(w.user_id for w in ws)
    assert rank(ws[::-1], c, cursor=cursor) == ranked  # the input order does not matter


@FAST
@given(workers_st(), configs_st, cursors)
def test_rank__first_is_optimal_for_the_strategy(
    ws: list[Worker], c: AssignmentConfig, cursor: str | None
) -> None:
    best = choose(ws, c, cursor=cursor)
    if not ws:
        assert best is None
        return
    assert best is not None
    if c.strategy is LB.CAPACITY_BASED:
        assert best.active_assignments == min(w.active_assignments for w in ws)
    elif c.strategy is LB.PERFORMANCE_WEIGHTED:
        assert quality(best) == max(quality(w) for w in ws)
    elif c.strategy is LB.HYBRID:
        assert score(best, c) == max(score(w, c) for w in ws)
        assert 0.0 <= free_capacity(best, c) <= 1.0
    else:
        after = sorted(w.user_id for w in ws if cursor is None or w.user_id > cursor)
        assert best.user_id == (after[0] if after else min(w.user_id for w in ws))
    scores = [s for _, s in rank(ws, c, cursor=cursor)]
    assert scores == sorted(scores, reverse=True)


@FAST
@given(workers_st(), tasks_st, configs_st, cursors, st.booleans())
def test_explain__agrees_with_choose_and_covers_everyone_once(
    ws: list[Worker], t: TaskScope, c: AssignmentConfig, cursor: str | None, presence: bool
) -> None:
    got = explain(ws, t, c, NOW, cursor=cursor, need_presence=presence)
    assert sorted(e.user_id for e in got) == sorted(w.user_id for w in ws)
    eligible = eligible_of(ws, t, c, presence)
    chosen = choose(eligible, c, cursor=cursor)
    firsts = [e for e in got if e.eligible]
    assert (firsts[0].user_id if firsts else None) == (chosen.user_id if chosen else None)
    assert [e.user_id for e in firsts] == ids(rank(eligible, c, cursor=cursor))
    flags = [e.eligible for e in got]
    assert flags == sorted(flags, reverse=True)  # eligible first
    refused = [e.user_id for e in got if not e.eligible]
    assert refused == sorted(refused)
    by_id = {w.user_id: w for w in ws}
    for e in got:
        reasons = exclusions(by_id[e.user_id], t, c, NOW, need_presence=presence)
        if e.eligible:
            assert reasons == [] and e.score is not None and e.reasons
        else:
            assert reasons and list(e.reasons) == reasons and e.score is None


@FAST
@given(workers_st(), tasks_st, configs_st)
def test_exclusions__never_eligible_at_max_concurrent(
    ws: list[Worker], t: TaskScope, c: AssignmentConfig
) -> None:
    for w in eligible_of(ws, t, c, presence=False):
        assert c.max_concurrent_per_user is None or w.active_assignments < c.max_concurrent_per_user
        assert w.active and t.required_skills <= w.skills
        assert not any(p.user_id == w.user_id and p.step_id == t.step_id for p in t.history)


# --------------------------------------------------------------------------------- state machine

ALLOWED = {
    (S.ASSIGNED, Action.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, Action.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, Action.SUBMIT): S.SUBMITTED,
    **{
        (held, action): to
        for held in (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS)
        for action, to in (
            (Action.REJECT, S.REJECTED),
            (Action.EXPIRE, S.EXPIRED),
            (Action.REASSIGN, S.REASSIGNED),
        )
    },
}
TABLE = [(status, action) for status in S for action in Action]


def test_transition_table__is_the_allowed_table() -> None:
    assert len(TABLE) == 42
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("current", "action"), [k for k in TABLE if k in ALLOWED])
def test_transition__allowed_move(current: AssignmentStatus, action: Action) -> None:
    assert transition(current, action) is ALLOWED[(current, action)]


@pytest.mark.parametrize(("current", "action"), [k for k in TABLE if k not in ALLOWED])
def test_transition__disallowed_move_raises_invalid_transition(
    current: AssignmentStatus, action: Action
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(current, action)
    assert caught.value.from_ is current
    assert caught.value.code == "INVALID_TRANSITION"
    assert caught.value.message.startswith(f"an assignment that is {current.value} cannot be ")


def test_transition__message_reads_as_words() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(S.SUBMITTED, Action.ACCEPT)
    assert caught.value.message == "an assignment that is SUBMITTED cannot be accepted"


# ----------------------------------------------------------------------------------------- steps


def test_next_step__the_one_after_and_none_after_the_last() -> None:
    assert next_step(STEPS, "annotate") == "review"
    assert next_step(STEPS, "review") == "qa"
    assert next_step(STEPS, "qa") is None
    assert next_step(["only"], "only") is None


def test_next_step__unknown_step_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'nope' is not a step"):
        next_step(STEPS, "nope")
