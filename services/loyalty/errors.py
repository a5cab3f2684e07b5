"""The loyalty area's expected failures (each a typed member of a mutation's result union)."""

from __future__ import annotations

from db.errors import Constraints, Meaning
from services.errors import AllotError, NotFound
from services.loyalty.model import ProgressStatus


class NotClaimable(AllotError):
    """The progress row's reward cannot be claimed: it is not COMPLETED (`status` says what it
    is; CLAIMED: claimed already)."""

    code = "NOT_CLAIMABLE"

    def __init__(self, message: str, status: ProgressStatus) -> None:
        super().__init__(message)
        self.status = status


def no_such_mission() -> NotFound:
    """What a caller learns of another tenant's mission (or none): nothing."""
    return NotFound("no such loyalty mission")


def no_such_progress() -> NotFound:
    """What a caller learns of a progress row that is not theirs: nothing."""
    return NotFound("no such mission progress")


CONSTRAINTS: Constraints = {
    "loyalty_tiers_key_format": Meaning(
        "key", "a tier key is a letter or digit then up to 39 letters, digits, - or _, not 'all'"
    ),
    "loyalty_tiers_name": Meaning("name", "must be 1 to 100 characters"),
    "loyalty_creators_handle": Meaning("handle", "must be 1 to 100 characters"),
    "loyalty_creators_checkpoints": Meaning("nextCheckpointAt", "must be after tierAchievedAt"),
    "loyalty_missions_title": Meaning("title", "must be 1 to 200 characters"),
    "loyalty_missions_target": Meaning("targetValue", "must be more than 0"),
    "loyalty_progress_one_per_creator": Meaning(None, "the creator already has this mission"),
    "loyalty_metric_events_once": Meaning(None, "that event was imported already"),
    "loyalty_redemptions_one_per_progress": Meaning(None, "the reward exists already"),
}
"""What the loyalty area's constraints mean to a user (db.errors translates by name)."""
