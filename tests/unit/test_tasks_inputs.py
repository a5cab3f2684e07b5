"""Task inputs that PostgreSQL could not store are refused first, naming the field."""

from __future__ import annotations

import pytest

from services.errors import InvalidInput
from services.tasks import inputs
from services.tasks.inputs import NewTask, Profile


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "payload", ["nul\x00", {"k\x00": 1}, [1, {"a": float("nan")}], {"deep": _nested(40)}]
)
def test_payloads_postgres_cannot_store__name_the_task_payload(payload: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        inputs.tasks([NewTask("a"), NewTask("a", payload=payload)], ("a",))
    assert [p.field for p in exc.value.fields] == ["tasks[1].payload"]


def test_a_plain_payload__is_kept_as_it_is() -> None:
    (task,) = inputs.tasks([NewTask("a", payload={"text": "héllo", "n": [1, 2.5, None]})], ("a",))
    assert task.payload == {"text": "héllo", "n": [1, 2.5, None]}


@pytest.mark.parametrize("reason", [None, "", "  ", {}, [], "bad\x00"])
def test_a_reject_reason__is_required_and_storable(reason: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        inputs.reject_reason(reason)
    assert [p.field for p in exc.value.fields] == ["reason"]


@pytest.mark.parametrize("user", ["", "  ", "a\x00b", "tab\tbed", "x" * 201])
def test_a_profile_user_id__is_one_plain_line(user: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        inputs.profile(Profile(user, (), None, True))
    assert [p.field for p in exc.value.fields] == ["userId"]
