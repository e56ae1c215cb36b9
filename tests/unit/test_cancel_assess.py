"""What a cancelled publish must do, decided from what it had done and what the runtime says now."""

from __future__ import annotations

import pytest

from abca_deploy.runtime.cancel import Situation, assess
from abca_deploy.runtime.tested import Tested

OLD = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a@sha256:" + "1" * 64
NEW = OLD.replace("1" * 64, "2" * 64)
OTHER = OLD.replace("1" * 64, "3" * 64)
TESTED_OLD = Tested("1", OLD, "t", "x")


def situation(**changes: object) -> Situation:
    base: dict[str, object] = {
        "started_from": "1", "mine": "2", "our_image": NEW, "rollback_version": "", "latest_version": "2",
        "latest_status": "READY", "latest_image": NEW, "history": (TESTED_OLD,), "rollback": True,
        "target": TESTED_OLD,
    }
    return Situation(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, ("roll-back", "2")),
    ({"latest_status": "UPDATING"}, ("roll-back", "2")),
    ({"mine": "", "latest_version": "1", "latest_image": OLD}, ("nothing", "")),
    ({"mine": ""}, ("roll-back", "2")),  # the update was accepted as the signal arrived
    ({"mine": "", "latest_image": OTHER}, ("nothing", "")),  # someone else's version, not ours
    ({"latest_version": "3", "latest_image": OTHER}, ("superseded", "2")),
    ({"latest_status": "UPDATE_FAILED"}, ("failed", "2")),
    ({"history": (Tested("2", NEW, "t", "x"), TESTED_OLD)}, ("tested", "2")),
    ({"rollback": False}, ("leave", "2")),
    ({"target": None}, ("no-target", "2")),
    ({"rollback_version": "3", "latest_version": "3", "latest_image": OLD}, ("rollback-issued", "2")),
])
def test_assess(changes: dict[str, object], expected: tuple[str, str]) -> None:
    assert assess(situation(**changes)) == expected
