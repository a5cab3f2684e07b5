"""The party area's expected failures (each a typed member of a mutation's result union)."""

from __future__ import annotations

from collections.abc import Sequence

from db.errors import Constraints, Meaning
from services.errors import AllotError, NotFound


class Infeasible(AllotError):
    """The pool cannot satisfy the hard rules for this party; `reasons` say concretely why.
    No plan is written (the previous one, if any, stays)."""

    code = "INFEASIBLE"

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("no plan meets the rules: " + "; ".join(reasons))
        self.reasons = tuple(reasons)


def no_such_party() -> NotFound:
    """What a caller learns of a party they may not see: nothing, not even that it exists."""
    return NotFound("no such party (or you are not one of its guests)")


CONSTRAINTS: Constraints = {
    "party_participants_one_per_user": Meaning("participants", "that user is already a guest"),
    "parties_participant_limit": Meaning("participants", "a party has at most 10,000 guests"),
    "parties_mission_limit": Meaning("missions", "a party has at most 50,000 missions"),
    "parties_name": Meaning("name", "must be 1 to 100 characters, no controls"),
    "party_participants_display_name": Meaning(
        "displayName", "must be 1 to 60 characters, no controls"
    ),
    "party_missions_title": Meaning("title", "must be 1 to 200 characters, no controls"),
    "party_missions_detail": Meaning("detail", "must be 1 to 2000 characters"),
    "party_plan_missions_whole": Meaning(None, "the plan leaves a mission half filled"),
    "party_plan_missions_per_participant": Meaning(
        None, "the plan does not give every guest their missions"
    ),
    "party_plan_recorded": Meaning(None, "the plan's rules are not recorded"),
    "party_slots_one_role_per_participant": Meaning(
        None, "the plan gives someone two roles of one mission"
    ),
}
"""What the party area's constraints mean to a user (db.errors translates by name)."""
