"""Publish decisions against a fake AgentCore with AWS's semantics: what is sent, when, what is reported."""

from __future__ import annotations

import io
from typing import Any

import pytest
from tests.unit.fake_agentcore import ARN, GOOD, NEW, REPO, RID, FakeControl, FakeData

from abca_deploy.aws.agentcore import Invocation
from abca_deploy.errors import OperationFailed
from abca_deploy.report import Reporter
from abca_deploy.runtime.config import carry_forward, with_image
from abca_deploy.runtime.image import ImagePlan, ImageResult
from abca_deploy.runtime.publish import Clients, Publisher
from abca_deploy.runtime.settings import PublishSettings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def publish(control: FakeControl, data: FakeData, *, image: str = NEW, **flags: Any) -> tuple[Publisher, Any]:
    settings = PublishSettings(runtime_id=RID, **flags)
    clock = Clock()
    built: list[ImagePlan] = []

    def fake_image(plan: ImagePlan, immutable: bool, log: Any) -> ImageResult:
        built.append(plan)
        return ImageResult(image, image.rsplit("@", 1)[1], built=True, pushed_tags=())

    clients = Clients(
        control=control,
        data=data,  # type: ignore[arg-type]
        repository=lambda s, current: (REPO, False),
        image=fake_image,
        sleep=clock.sleep,
        clock=clock,
    )
    reporter = Reporter(stdout=io.StringIO(), stderr=io.StringIO())
    publisher = Publisher(settings, reporter, clients)
    try:
        return publisher, publisher.run(RID)
    except OperationFailed as err:
        return publisher, err


@pytest.fixture
def control() -> FakeControl:
    return FakeControl()


def test_deploy_sends_every_setting_with_only_the_image_changed(control: FakeControl) -> None:
    _publisher, outcome = publish(control, FakeData(control), context="examples")
    assert outcome.status == "deployed"
    assert control.requests == [with_image(carry_forward(control.versions["1"]), NEW)]
    assert outcome.runtime_version == "2"
    assert outcome.previous_version == "1"
    assert outcome.smoke.passed
    assert outcome.smoke.status == 400
    assert outcome.runtime_arn == ARN


def test_same_digest_is_unchanged_and_creates_no_version(control: FakeControl) -> None:
    _, outcome = publish(control, FakeData(control), image=GOOD, context="examples")
    assert outcome.status == "unchanged"
    assert control.requests == []
    assert list(control.versions) == ["1"]


def test_update_failed_rolls_back_to_the_previous_full_configuration(control: FakeControl) -> None:
    control.failing_images[NEW] = "container exited with code 1"
    publisher, err = publish(control, FakeData(control), context="examples")
    assert isinstance(err, OperationFailed)
    assert err.exit_code == 1
    assert "Rolled back to v1" in err.message
    assert "container exited with code 1" in err.message
    assert publisher.out.status == "rolled-back"
    assert control.requests[1] == carry_forward(control.versions["1"])
    assert control.versions["3"]["status"] == "READY"
    assert control.default_version() == "3"


def test_failed_smoke_test_rolls_back_and_default_serves_the_old_image(control: FakeControl) -> None:
    data = FakeData(control, answers={NEW: Invocation(424, "application/json", '{"message":"crashed"}')})
    publisher, err = publish(control, data, context="examples")
    assert isinstance(err, OperationFailed)
    assert publisher.out.status == "rolled-back"
    assert "424" in err.message
    latest = control.versions[control.default_version()]
    assert latest["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"] == GOOD


def test_smoke_regex_mismatch_is_a_failure(control: FakeControl) -> None:
    publisher, err = publish(control, FakeData(control), context="examples", smoke_expect="TASK_STARTED")
    assert isinstance(err, OperationFailed)
    assert "does not match" in publisher.out.error


def test_no_rollback_leaves_the_failed_version(control: FakeControl) -> None:
    control.failing_images[NEW] = "ping failed"
    publisher, err = publish(control, FakeData(control), context="examples", rollback=False)
    assert isinstance(err, OperationFailed)
    assert publisher.out.status == "failed"
    assert len(control.requests) == 1
    assert control.versions["2"]["status"] == "UPDATE_FAILED"


def test_timeout_never_reports_success_and_rolls_back(control: FakeControl) -> None:
    control.never_ready = True
    publisher, err = publish(
        control, FakeData(control), context="examples", wait_timeout=30, rollback=False
    )
    assert isinstance(err, OperationFailed)
    assert "not READY after 30s" in err.message
    assert publisher.out.status != "deployed"


def test_promote_moves_the_endpoint_only_after_a_passing_smoke_test(control: FakeControl) -> None:
    control.endpoints["prod"] = {"name": "prod", "status": "READY", "liveVersion": "1", "targetVersion": "1"}
    _, outcome = publish(control, FakeData(control), context="examples", promote_endpoint="prod")
    assert outcome.status == "deployed"
    assert control.log.index("invoke " + NEW[-6:]) < control.log.index("endpoint prod -> 2")
    assert control.endpoints["prod"]["liveVersion"] == "2"


def test_promote_with_failing_smoke_leaves_the_endpoint(control: FakeControl) -> None:
    control.endpoints["prod"] = {"name": "prod", "status": "READY", "liveVersion": "1", "targetVersion": "1"}
    data = FakeData(control, answers={NEW: Invocation(500, "application/json", "{}")})
    _, err = publish(control, data, context="examples", promote_endpoint="prod")
    assert isinstance(err, OperationFailed)
    assert control.endpoints["prod"]["liveVersion"] == "1"
    assert not any(entry.startswith("endpoint") for entry in control.log)


def test_conflict_waits_for_the_other_update_then_updates(control: FakeControl) -> None:
    control.conflicts = 1
    _, outcome = publish(control, FakeData(control), context="examples")
    assert outcome.status == "deployed"
    assert control.log.count("update") == 2


def test_dry_run_changes_nothing_and_shows_the_exact_request(control: FakeControl) -> None:
    _publisher, outcome = publish(control, FakeData(control), context="examples", dry_run=True)
    assert outcome.status == "planned"
    assert control.requests == []
    request = outcome.plan["update_request"]
    assert request["environmentVariables"] == {"AWS_REGION": "***", "CLAUDE_CODE_USE_BEDROCK": "***"}
    assert request["lifecycleConfiguration"] == {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800}
    assert "requireServiceS3Endpoint" not in str(request)
