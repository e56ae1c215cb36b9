"""The changing half of a publish: update, wait for READY, smoke-test and record, promote, verify it is live.

Success means live: a version is recorded as tested only when the smoke test passed *and* it was still the
newest version before and after the test, and a publish reports ``deployed`` only when DEFAULT (or the
promoted endpoint) serves it at the end. A newer version from another writer raises ``Superseded``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.errors import AbcaError, OperationFailed
from abca_deploy.identifiers import digest_of
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.outcome import PublishStatus
from abca_deploy.runtime.tested import Tested, now, tested_record
from abca_deploy.runtime.wait import Superseded, wait_endpoint_live, wait_idle, wait_version_ready

if TYPE_CHECKING:
    from abca_deploy.runtime.image import ImageResult
    from abca_deploy.runtime.publish import Publisher


SESSION_NOT_STOPPED = "Smoke-test session not stopped"


def roll_out(p: Publisher, runtime_id: str, request: dict[str, Any]) -> None:
    """Update, wait, smoke-test, promote and verify; raises on the first failure."""
    reporter, control, timeout = p.reporter, p.clients.control, p.settings.wait_timeout
    if p.lease is not None:
        p.lease.check()
    with reporter.group("Update runtime"):
        version = update(p, runtime_id, request, rebase=True)
        p.mine = p.outcome.runtime_version = version
    with reporter.group(f"Wait for version {version} READY"):
        wait_version_ready(control, runtime_id, version, p.clients.poller(timeout), reporter.info)
    with reporter.group("Smoke test"):
        smoke_and_record(p, runtime_id, version)
    if p.settings.promote_endpoint:
        with reporter.group(f"Promote endpoint {p.settings.promote_endpoint}"):
            promote(p, runtime_id, version)
    with reporter.group("Verify"):
        verify_live(p, runtime_id, version)


def already_live(p: Publisher, runtime_id: str, image: ImageResult) -> bool:
    """True when DEFAULT already serves this image: unchanged. An untested one is smoke-tested first."""
    from abca_deploy.runtime.recover import recover

    serving = p.outcome.previous_version
    if image.digest != digest_of(p.outcome.previous_image) or serving != p.started_from:
        return False
    p.outcome.runtime_version = serving
    if tested_record(image.uri, p.history) is None:
        p.mine = serving
        try:
            with p.reporter.group(f"Smoke test (version {serving} is live but untested)"):
                smoke_and_record(p, runtime_id, serving)
        except AbcaError as exc:
            recover(p, runtime_id, exc)
    p.outcome.status = PublishStatus.UNCHANGED
    p.reporter.info(f"runtime {runtime_id} already runs {image.digest}, tested: nothing to update")
    return True


def update(p: Publisher, runtime_id: str, request: dict[str, Any], *, rebase: bool) -> str:
    """UpdateAgentRuntime; on ConflictException wait for the other update, then retry (``rebase``: carry
    forward the settings that update left, keeping our image)."""
    from abca_deploy.aws.agentcore import Conflict

    poller = p.clients.poller(p.settings.wait_timeout)
    while True:
        try:
            response = p.clients.control.update_runtime(runtime_id, request)
        except Conflict:
            p.reporter.info("another update is in flight (ConflictException); waiting for it")
            current = wait_idle(p.clients.control, runtime_id, poller, p.reporter.info)
            if rebase:
                request = cfg.with_image(cfg.carry_forward(current), cfg.container_uri(request) or "")
            continue
        version = str(response["agentRuntimeVersion"])
        p.reporter.info(f"UpdateAgentRuntime accepted: version {version} {response.get('status', '')}")
        return version


def latest_is(p: Publisher, runtime_id: str, version: str) -> None:
    """Raise Superseded when a version newer than ``version`` exists."""
    latest = str(p.clients.control.get_runtime(runtime_id).get("agentRuntimeVersion", ""))
    if latest.isdigit() and version.isdigit() and int(latest) > int(version):
        raise Superseded(version, latest)


def smoke_and_record(p: Publisher, runtime_id: str, version: str) -> None:
    """Smoke-test ``version`` through DEFAULT; when it passes (and served the test), record it as tested."""
    from abca_deploy.runtime.smoke import smoke_test

    settings = p.settings
    result = smoke_test(p.clients.data, p.outcome.runtime_arn, settings.payload(), qualifier=None,
                        expected=settings.expected_statuses, pattern=settings.smoke_expect,
                        sleep=p.clients.sleep, log=p.reporter.info,
                        warn=lambda message: p.reporter.warning(message, title=SESSION_NOT_STOPPED))
    p.outcome.smoke = result
    p.reporter.info(f"smoke test {result.summary()}; body: {result.body_excerpt}")
    latest_is(p, runtime_id, version)  # after the test: the answer came from our version, not a newer one
    if not result.passed:
        msg = f"Smoke test of version {version} failed: {result.reason}."
        raise OperationFailed(msg, title="Smoke test failed")
    record = Tested(version, p.outcome.image_uri, now(), p.owner.describe(), "smoke-test", result.summary())
    p.records.record(runtime_id, record)
    p.history.insert(0, record)
    p.reporter.info(f"recorded as tested: {record.describe()}")


def promote(p: Publisher, runtime_id: str, version: str) -> None:
    """Point the named endpoint at ``version`` (created if missing) and wait until it serves it."""
    name = p.settings.promote_endpoint
    assert name is not None
    existing = p.clients.control.get_endpoint(runtime_id, name)
    p.clients.control.point_endpoint(runtime_id, name, version, create=existing is None)
    poller = p.clients.poller(p.settings.wait_timeout)
    wait_endpoint_live(p.clients.control, runtime_id, name, version, poller, p.reporter.info)
    p.reporter.info(f"endpoint {name} now serves version {version}")


def verify_live(p: Publisher, runtime_id: str, version: str) -> None:
    """Success means live: DEFAULT (or the promoted endpoint) serves ``version`` now."""
    name = p.settings.promote_endpoint or "DEFAULT"
    endpoint = p.clients.control.get_endpoint(runtime_id, name)
    live = str(endpoint.get("liveVersion", "")) if endpoint else ""
    if endpoint is None and name == "DEFAULT":  # an API without DEFAULT: the newest version is what it serves
        latest_is(p, runtime_id, version)
    elif live != version:
        if name == "DEFAULT" and live.isdigit() and version.isdigit() and int(live) > int(version):
            raise Superseded(version, live)
        msg = f"Endpoint {name} serves version {live or '(none)'}, not version {version}."
        raise OperationFailed(msg, title="Not live")
    p.reporter.info(f"{name} serves version {version} ({p.outcome.image_digest})")
