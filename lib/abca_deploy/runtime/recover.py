"""After a failed roll-out: never roll back someone else's version; else go back to the newest tested one.

The rollback waits (up to ``--wait-timeout``) for our version to settle, since AgentCore refuses an update
while one is in flight, then redeploys the tested version's full configuration and waits (up to
``--wait-timeout`` again) for READY. When either wait runs out, the error says which untested version may
still serve and the exact command that finishes the job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from abca_deploy.errors import OperationFailed
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.cancel import fix_command
from abca_deploy.runtime.outcome import PublishStatus
from abca_deploy.runtime.rollout import latest_is, update
from abca_deploy.runtime.tested import rollback_choice
from abca_deploy.runtime.wait import Superseded, WaitTimedOut, wait_idle, wait_version_ready

if TYPE_CHECKING:
    from abca_deploy.errors import AbcaError
    from abca_deploy.runtime.publish import Publisher
    from abca_deploy.runtime.tested import Tested


def recover(p: Publisher, runtime_id: str, cause: AbcaError) -> NoReturn:
    """Report ``cause``, roll back if that is ours to do, and raise the error that says what happened."""
    outcome = p.outcome
    outcome.error = cause.message
    p.reporter.error(cause.message, title=cause.title)
    if isinstance(cause, Superseded):
        outcome.status, outcome.runtime_version = PublishStatus.SUPERSEDED, cause.theirs
        outcome.left_behind.append(f"Version {cause.theirs} (another writer's) replaced version "
                                   f"{cause.mine}; nothing was rolled back.")
        raise cause
    if not p.mine:
        raise cause
    if not p.settings.rollback or p.settings.promote_endpoint:
        _leave(p, cause)
        raise cause
    target = rollback_choice(p.history, p.versions, outcome.image_uri)
    if target is None:
        outcome.left_behind.append(f"Version {p.mine} (untested) is left in place: no tested version to roll "
                                   "back to.")
        msg = f"{cause.message} No tested version of runtime {runtime_id} to roll back to."
        raise OperationFailed(msg, hint="Publish a working image.", title="Nothing to roll back to")
    try:
        _roll_back(p, runtime_id, target)
    except Superseded as exc:
        outcome.status, outcome.runtime_version = PublishStatus.SUPERSEDED, exc.theirs
        raise
    except WaitTimedOut as exc:
        _incomplete(p, runtime_id, cause, target, exc)
    outcome.status, outcome.rolled_back_to = PublishStatus.ROLLED_BACK, target.version
    outcome.runtime_version = p.rollback_version
    msg = f"Rolled back to v{target.version} (as version {p.rollback_version}): {cause.message}"
    raise OperationFailed(msg, title=f"Rolled back to v{target.version}")


def _leave(p: Publisher, cause: AbcaError) -> None:
    endpoint = p.settings.promote_endpoint
    if endpoint:
        p.reporter.warning(f"Endpoint {endpoint} was left where it was; DEFAULT serves version {p.mine}.",
                           title="Not promoted")
        p.outcome.left_behind.append(f"Endpoint {endpoint} not moved; DEFAULT serves version {p.mine} "
                                     f"({cause.title.lower()}).")
    else:
        p.outcome.left_behind.append(f"Version {p.mine} is left in place (--no-rollback).")


def _roll_back(p: Publisher, runtime_id: str, target: Tested) -> None:
    """Once our version has settled, redeploy the tested version's configuration and wait for READY."""
    control, timeout = p.clients.control, p.settings.wait_timeout
    with p.reporter.group(f"Roll back to version {target.version}"):
        latest = wait_idle(control, runtime_id, p.clients.poller(timeout), p.reporter.info)
        if str(latest.get("agentRuntimeVersion")) != p.mine:
            latest_is(p, runtime_id, p.mine)
        config = control.get_runtime(runtime_id, target.version)
        p.rollback_version = update(p, runtime_id, cfg.carry_forward(config), rebase=False)
        wait_version_ready(control, runtime_id, p.rollback_version, p.clients.poller(timeout),
                           p.reporter.info)


def _incomplete(p: Publisher, runtime_id: str, cause: AbcaError, target: Tested,
                exc: WaitTimedOut) -> NoReturn:
    timeout = p.settings.wait_timeout
    if p.rollback_version:
        what = (f"Rollback version {p.rollback_version} (the tested image of version {target.version}) was "
                f"not READY within --wait-timeout {timeout}s")
    else:
        what = (f"Version {p.mine} (untested) was still in flight after --wait-timeout {timeout}s, so the "
                "rollback could not start")
    p.outcome.left_behind.append(f"{what}; version {p.mine} (untested) may serve until then.")
    msg = f"{cause.message} {what}."
    raise OperationFailed(msg, hint=f"Run `{fix_command(p.settings, runtime_id)}` once the runtime settles "
                                    "(the deploy-runtime workflow does this in its clean-up step).",
                          title="Rollback incomplete") from exc
