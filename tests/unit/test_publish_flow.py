"""Publish decisions against fakes with AWS's semantics: what is sent, when, what is recorded and reported."""

from __future__ import annotations

import io
import json
import signal
from typing import Any

import pytest
from tests.support.fake_ssm import FakeParameters
from tests.unit.fake_agentcore import ARN, GOOD, NEW, REPO, RID, FakeControl, FakeData

from abca_deploy.aws.agentcore import Invocation
from abca_deploy.aws.ecr import Repository
from abca_deploy.errors import AbcaError, Cancelled, OperationFailed
from abca_deploy.interrupts import Signals
from abca_deploy.lease import LeaseBusy, Owner
from abca_deploy.report import Reporter
from abca_deploy.runtime.config import carry_forward, with_image
from abca_deploy.runtime.image import ImagePlan, ImageResult
from abca_deploy.runtime.publish import Clients, Publisher
from abca_deploy.runtime.settings import PublishSettings
from abca_deploy.runtime.tested import Tested, record_name

THIRD = REPO + "@sha256:" + "3" * 64


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


class FakeEcr:
    def repository(self, name: str) -> Repository:
        return Repository(name, REPO, immutable=False)


class World:
    """One runtime, its SSM parameters and a clock that both share."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.control = FakeControl()
        self.data = FakeData(self.control)
        self.parameters = FakeParameters(clock=self.clock)
        self.signals = Signals(clock=self.clock)
        self.built: list[ImagePlan] = []
        self.build_seconds = 0.0
        self.interrupt_build: int | None = None

    def record(self, version: str, image: str, source: str = "smoke-test") -> None:
        tested = Tested(version, image, "2026-01-01T00:00:00Z", "test", source)  # type: ignore[arg-type]
        self.parameters.put(record_name(RID), tested.to_json())

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(v.value) for v in self.parameters.history(record_name(RID))]

    def publisher(self, image: str = NEW, owner: Owner | None = None, **flags: Any) -> Publisher:
        settings = PublishSettings(runtime_id=RID, context="examples", **flags)

        def fake_image(plan: ImagePlan, immutable: bool, log: Any) -> ImageResult:
            self.built.append(plan)
            self.clock.sleep(self.build_seconds)
            if self.interrupt_build is not None:
                self.signals._handle(self.interrupt_build, None)
            return ImageResult(image, image.rsplit("@", 1)[1], built=True, pushed_tags=())

        clients = Clients(control=self.control, data=self.data,  # type: ignore[arg-type]
                          parameters=self.parameters, ecr=FakeEcr(),  # type: ignore[arg-type]
                          image=fake_image, sleep=self.clock.sleep, clock=self.clock)
        reporter = Reporter(stdout=io.StringIO(), stderr=io.StringIO())
        self.signals.armed = True
        return Publisher(settings, reporter, clients, owner=owner or Owner("local", "h", 1),
                         signals=self.signals)

    def publish(self, image: str = NEW, **flags: Any) -> tuple[Publisher, Any]:
        publisher = self.publisher(image, **flags)
        try:
            return publisher, publisher.run(RID)
        except AbcaError as err:
            return publisher, err


@pytest.fixture
def world() -> World:
    return World()


def stderr(publisher: Publisher) -> str:
    return publisher.reporter.stderr.getvalue()  # type: ignore[attr-defined]


def test_deploy_sends_every_setting_with_only_the_image_changed(world: World) -> None:
    _, outcome = world.publish()
    assert outcome.status == "deployed"
    assert world.control.requests == [with_image(carry_forward(world.control.versions["1"]), NEW)]
    assert (outcome.runtime_version, outcome.previous_version, outcome.runtime_arn) == ("2", "1", ARN)
    assert outcome.smoke.passed
    assert outcome.smoke.status == 400


def test_first_publish_records_a_baseline_then_the_tested_version(world: World) -> None:
    publisher, _ = world.publish()
    assert [(r["version"], r["image"], r["source"]) for r in world.records()] == [
        ("2", NEW, "smoke-test"), ("1", GOOD, "baseline")]
    assert "no last-tested record yet" in stderr(publisher)


def test_same_digest_and_tested_is_unchanged_and_creates_no_version(world: World) -> None:
    world.record("1", GOOD)
    _, outcome = world.publish(image=GOOD)
    assert outcome.status == "unchanged"
    assert world.control.requests == []
    assert world.data.invoked == []


def test_same_digest_but_untested_is_smoke_tested_then_recorded(world: World) -> None:
    world.record("1", GOOD)
    world.control.update_runtime(RID, with_image(carry_forward(world.control.versions["1"]), NEW))
    world.control.get_runtime(RID), world.control.get_runtime(RID)  # version 2 READY, never tested
    publisher, outcome = world.publish(image=NEW)
    assert outcome.status == "unchanged"
    assert "which no publish smoke-tested" in stderr(publisher)
    assert [image for image, _, _ in world.data.invoked] == [NEW]
    assert world.records()[0]["version"] == "2"
    assert len(world.control.requests) == 1


def test_update_failed_rolls_back_to_the_previous_full_configuration(world: World) -> None:
    world.control.failing_images[NEW] = "container exited with code 1"
    publisher, err = world.publish()
    assert isinstance(err, OperationFailed)
    assert err.exit_code == 1
    assert "Rolled back to v1" in err.message
    assert "container exited with code 1" in err.message
    assert publisher.outcome.status == "rolled-back"
    assert world.control.requests[1] == carry_forward(world.control.versions["1"])
    assert world.control.default_version() == "3"


def test_rollback_targets_the_newest_tested_version_not_the_newest_ready(world: World) -> None:
    """A blue/green publish left version 2 READY on DEFAULT after failing its smoke test: never a target."""
    world.record("1", GOOD)
    world.control.endpoints["prod"] = {"name": "prod", "status": "READY", "liveVersion": "1",
                                       "targetVersion": "1"}
    world.data.answers[NEW] = Invocation(500, "application/json", "{}")
    world.publish(image=NEW, promote_endpoint="prod")
    assert world.control.default_version() == "2"
    world.control.failing_images[THIRD] = "crashed"
    publisher, err = world.publish(image=THIRD)
    assert isinstance(err, OperationFailed)
    assert "Rolled back to v1" in err.message
    assert "Live version untested" in stderr(publisher) or "no publish smoke-tested" in stderr(publisher)
    assert world.control.requests[-1] == carry_forward(world.control.versions["1"])
    image = world.control.versions[world.control.default_version()]["agentRuntimeArtifact"]
    assert image["containerConfiguration"]["containerUri"] == GOOD


def test_failed_smoke_test_rolls_back_and_default_serves_the_old_image(world: World) -> None:
    world.data.answers[NEW] = Invocation(424, "application/json", '{"message":"crashed"}')
    publisher, err = world.publish()
    assert isinstance(err, OperationFailed)
    assert publisher.outcome.status == "rolled-back"
    assert "424" in err.message
    latest = world.control.versions[world.control.default_version()]
    assert latest["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"] == GOOD
    assert [r["version"] for r in world.records()] == ["1"]  # the failed image was never recorded


def test_no_rollback_leaves_the_failed_version(world: World) -> None:
    world.control.failing_images[NEW] = "ping failed"
    publisher, err = world.publish(rollback=False)
    assert isinstance(err, OperationFailed)
    assert publisher.outcome.status == "failed"
    assert len(world.control.requests) == 1
    assert world.control.versions["2"]["status"] == "UPDATE_FAILED"
    assert publisher.outcome.left_behind == ["Version 2 is left in place (--no-rollback)."]


def test_wait_timeout_counts_from_the_update_call_not_from_the_start(world: World) -> None:
    world.build_seconds = 28.0  # a slow build must not eat the wait for READY
    _, outcome = world.publish(wait_timeout=15)
    assert outcome.status == "deployed"


def test_a_version_never_ready_times_out_and_names_the_untested_version_and_the_fix(world: World) -> None:
    world.control.never_ready = True
    publisher, err = world.publish(wait_timeout=30)
    assert isinstance(err, OperationFailed)
    assert "not READY within --wait-timeout 30s of the update call" in err.message
    assert "Version 2 (untested) was still in flight" in err.message
    assert err.hint is not None
    assert f"abca-deploy runtime rollback --runtime-id {RID} --if-untested" in err.hint
    assert publisher.outcome.status == "failed"


def test_superseded_when_another_writer_replaces_our_version_and_nothing_is_rolled_back(world: World) -> None:
    def other_writer(*args: Any, **kwargs: Any) -> Invocation:
        world.control.update_runtime(RID, with_image(carry_forward(world.control.versions["1"]), THIRD))
        world.control.get_runtime(RID), world.control.get_runtime(RID)
        return Invocation(400, "application/json", "{}")

    world.data.invoke = other_writer  # type: ignore[method-assign]
    publisher, err = world.publish()
    assert isinstance(err, OperationFailed)
    assert publisher.outcome.status == "superseded"
    assert publisher.outcome.runtime_version == "3"
    assert [r["version"] for r in world.records()] == ["1"]  # our test may have hit their version
    assert len(world.control.requests) == 2  # ours and theirs: no rollback


def test_promote_moves_the_endpoint_only_after_a_passing_smoke_test(world: World) -> None:
    world.control.endpoints["prod"] = {"name": "prod", "status": "READY", "liveVersion": "1",
                                       "targetVersion": "1"}
    _, outcome = world.publish(promote_endpoint="prod")
    assert outcome.status == "deployed"
    log = world.control.log
    assert log.index("invoke " + NEW[-6:]) < log.index("endpoint prod -> 2")
    assert world.control.endpoints["prod"]["liveVersion"] == "2"


def test_conflict_waits_for_the_other_update_then_updates(world: World) -> None:
    world.control.conflicts = 1
    _, outcome = world.publish()
    assert outcome.status == "deployed"
    assert world.control.log.count("update") == 2


def test_dry_run_changes_nothing_and_shows_the_exact_request(world: World) -> None:
    _publisher, outcome = world.publish(dry_run=True)
    assert outcome.status == "planned"
    assert world.control.requests == []
    assert world.parameters.versions == {}  # no lease, no baseline
    request = outcome.plan.document()["update_request"]
    assert request["environmentVariables"] == {"AWS_REGION": "***", "CLAUDE_CODE_USE_BEDROCK": "***"}
    assert request["lifecycleConfiguration"] == {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800}
    assert "requireServiceS3Endpoint" not in str(request)


def test_the_lease_is_released_and_a_second_publish_takes_the_next_generation(world: World) -> None:
    world.publish()
    lease = world.parameters.children(f"/abca-deploy/runtime/{RID}/lease").parameters
    assert [(p.name.rsplit("/", 1)[1], json.loads(p.value)["released"]) for p in lease] == [("1", True)]
    world.publish(image=THIRD)
    lease = world.parameters.children(f"/abca-deploy/runtime/{RID}/lease").parameters
    assert [(p.name.rsplit("/", 1)[1], json.loads(p.value)["released"]) for p in lease] == [("2", True)]


def test_a_held_lease_makes_the_second_publish_wait_then_fail_naming_the_holder(world: World) -> None:
    holder = world.publisher(owner=Owner("https://github.com/o/r/actions/runs/7 (attempt 1, job publish)",
                                         "runner-1", 4242))
    holder._lock(RID)
    publisher, err = world.publish(image=THIRD, lease_timeout=20)
    assert isinstance(err, LeaseBusy)
    assert "actions/runs/7" in err.message
    assert "runner-1, pid 4242" in err.message
    assert world.control.requests == []
    assert "Another publish holds runtime" in stderr(publisher)
    assert holder.lease is not None
    holder.lease.release()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_cancel_before_the_update_changes_nothing(world: World, signum: int) -> None:
    world.interrupt_build = signum
    publisher, err = world.publish()
    assert isinstance(err, Cancelled)
    assert err.exit_code == 128 + signum
    assert publisher.outcome.status == "cancelled"
    assert world.control.requests == []
    assert publisher.outcome.left_behind[0].startswith("Nothing changed on the runtime")


def test_a_cancel_during_the_smoke_test_rolls_back_at_once(world: World) -> None:
    def cancelled(*args: Any, **kwargs: Any) -> Invocation:
        world.signals._handle(signal.SIGINT, None)
        raise AssertionError  # not reached: the handler raises

    world.data.invoke = cancelled  # type: ignore[method-assign]
    publisher, err = world.publish()
    assert isinstance(err, Cancelled)
    assert err.exit_code == 130
    assert world.control.requests[-1] == carry_forward(world.control.versions["1"])
    assert publisher.outcome.left_behind == ["Rolled back to v1 (as version 3, READY)."]
    assert publisher.outcome.status == "cancelled"


def test_a_cancel_while_the_version_is_updating_names_it_and_the_fix(world: World) -> None:
    world.control.never_ready = True
    original = world.control.get_runtime
    reads = []

    def get_runtime(runtime_id: str, version: str | None = None) -> dict[str, Any]:
        reads.append(version)
        if len(world.control.requests) == 1 and len(reads) == 6:
            world.signals._handle(signal.SIGTERM, None)
        return original(runtime_id, version)

    world.control.get_runtime = get_runtime  # type: ignore[method-assign]
    publisher, err = world.publish()
    assert isinstance(err, Cancelled)
    assert err.exit_code == 143
    note = publisher.outcome.left_behind[0]
    assert "Version 2 (untested) is still UPDATING" in note
    assert f"abca-deploy runtime rollback --runtime-id {RID} --if-untested" in note
    assert world.clock.now < 60  # gave up within SIGTERM's grace, not after a wait-timeout
