"""After a signal (a cancelled job) or the ``--timeout`` alarm: back to a tested version, fast.

GitHub kills a step 10 s after its SIGINT (2.5 s after the SIGTERM that follows 7.5 s in). The clean-up reads
the runtime once, decides what this publish left (``assess``, pure) and acts within what remains of that grace
(``interrupts.GRACE``): it issues the rollback at once and waits for READY only while time remains. AgentCore
refuses an update while a version is UPDATING (ConflictException), so a cancel during the wait may not be able
to roll back in time: the output then names the untested version and the command that finishes the job, which
the deploy-runtime workflow runs in its ``if: cancelled()`` step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NoReturn

from abca_deploy.errors import Cancelled, OperationFailed
from abca_deploy.identifiers import same_image
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.outcome import PublishStatus
from abca_deploy.runtime.tested import Tested, rollback_choice, tested_record
from abca_deploy.runtime.wait import FAILED, IN_PROGRESS

if TYPE_CHECKING:
    from abca_deploy.interrupts import Interrupted
    from abca_deploy.runtime.publish import Publisher
    from abca_deploy.runtime.settings import TargetSettings

Action = Literal["nothing", "failed", "rollback-issued", "superseded", "tested", "leave", "no-target",
                 "roll-back"]


def fix_command(settings: TargetSettings, runtime_id: str) -> str:
    """The command that rolls back an untested live version once the runtime has settled."""
    region = f" --aws-region {settings.aws_region}" if settings.aws_region else ""
    return f"abca-deploy runtime rollback --runtime-id {runtime_id}{region} --if-untested"


def _newer(a: str, b: str) -> bool:
    return a.isdigit() and b.isdigit() and int(a) > int(b)


@dataclass(frozen=True)
class Situation:
    """What the publish had done when it was stopped, and what the runtime says now."""

    started_from: str
    mine: str
    our_image: str
    rollback_version: str
    latest_version: str
    latest_status: str
    latest_image: str
    history: tuple[Tested, ...]
    rollback: bool
    target: Tested | None


def assess(situation: Situation) -> tuple[Action, str]:
    """What to do, and which version is this publish's ('' when it created none)."""
    s = situation
    mine = s.mine
    if not mine and _newer(s.latest_version, s.started_from) and same_image(s.latest_image, s.our_image):
        mine = s.latest_version  # the update was accepted just as the signal arrived
    if s.rollback_version:
        return "rollback-issued", mine
    if not mine:
        return "nothing", ""
    if _newer(s.latest_version, mine):
        return "superseded", mine
    if s.latest_version == mine and s.latest_status in FAILED:
        return "failed", mine
    if tested_record(s.our_image, s.history) is not None:
        return "tested", mine
    if not s.rollback:
        return "leave", mine
    return ("roll-back" if s.target is not None else "no-target"), mine


class Cleanup:
    """Runs the clean-up of one interrupted publish within its time budget."""

    def __init__(self, publisher: Publisher, stop: Interrupted) -> None:
        self.publisher, self.stop = publisher, stop
        signals, settings = publisher.signals, publisher.settings
        ends = [end for end in [signals.deadline()] if end is not None]
        if stop.timed_out:
            ends.append(signals.clock() + settings.wait_timeout)
        self.end = min(ends) if ends else signals.clock() + settings.wait_timeout
        self.notes: list[str] = []
        self.rolled_back = False  # a rollback version reached READY

    def left(self) -> float:
        """Seconds of budget left (a later SIGINT/SIGTERM can shorten it)."""
        later = self.publisher.signals.deadline()
        return min(self.end, later if later is not None else self.end) - self.publisher.signals.clock()

    def run(self) -> None:
        """Read, decide, act; ``notes`` say what was left behind."""
        p = self.publisher
        runtime_id, outcome = p.outcome.runtime_id, p.outcome
        if not runtime_id or not p.started_from:
            self.notes.append("Nothing changed on the runtime.")
            return
        latest = p.clients.control.get_runtime(runtime_id)
        target = rollback_choice(p.history, p.versions, outcome.image_uri)
        situation = Situation(p.started_from, p.mine, outcome.image_uri, p.rollback_version,
                              str(latest.get("agentRuntimeVersion", "")), str(latest.get("status", "")),
                              cfg.container_uri(latest) or "", tuple(p.history),
                              p.settings.rollback and not p.settings.promote_endpoint, target)
        action, mine = assess(situation)
        p.mine = mine
        steps = {"nothing": self._nothing, "failed": self._failed, "rollback-issued": self._rollback_issued,
                 "superseded": self._superseded, "tested": self._tested, "leave": self._leave,
                 "no-target": self._no_target, "roll-back": self._roll_back}
        steps[action](runtime_id, mine, target, situation)

    def _nothing(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        outcome = self.publisher.outcome
        outcome.runtime_version = outcome.previous_version
        pushed = f" The image {outcome.image_uri} was pushed (harmless)." if outcome.built else ""
        self.notes.append(f"Nothing changed on the runtime: DEFAULT still serves version "
                          f"{outcome.previous_version}.{pushed}")

    def _failed(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        outcome = self.publisher.outcome
        outcome.runtime_version = outcome.previous_version
        self.notes.append(f"Version {mine} is {s.latest_status} and never served; DEFAULT still serves "
                          f"version {outcome.previous_version}.")

    def _superseded(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        self.publisher.outcome.runtime_version = s.latest_version
        self.notes.append(f"Version {s.latest_version} (another writer's) replaced version {mine}; nothing "
                          "was rolled back.")

    def _tested(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        self.publisher.outcome.runtime_version = mine
        self.notes.append(f"Version {mine} passed its smoke test (recorded as tested) and stays.")

    def _leave(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        p = self.publisher
        p.outcome.runtime_version = mine
        why = f"endpoint {p.settings.promote_endpoint} was not moved" if p.settings.promote_endpoint \
            else "--no-rollback"
        self.notes.append(f"Version {mine} (untested) is left in place ({why}); fix: "
                          f"`{fix_command(p.settings, runtime_id)}`.")

    def _no_target(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        self.publisher.outcome.runtime_version = mine
        self.notes.append(f"Version {mine} (untested) is left in place: no tested version to roll back to.")

    def _roll_back(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        from abca_deploy.aws.agentcore import Conflict

        assert target is not None
        p = self.publisher
        control = p.clients.control
        config = cfg.carry_forward(control.get_runtime(runtime_id, target.version))
        while True:
            try:
                response = control.update_runtime(runtime_id, config)
                break
            except Conflict:
                state = control.get_runtime(runtime_id)
                if str(state.get("agentRuntimeVersion")) == mine and state.get("status") in FAILED:
                    self._failed(runtime_id, mine, target, s)
                    return
                if self.left() <= 0.5:
                    p.outcome.runtime_version = mine
                    self.notes.append(
                        f"Version {mine} (untested) is still {state.get('status')}: AgentCore refuses a "
                        "rollback until it settles, and if it becomes READY it serves untested. Fix: "
                        f"`{fix_command(p.settings, runtime_id)}`.")
                    return
                p.clients.sleep(0.5)
        p.rollback_version = str(response["agentRuntimeVersion"])
        p.reporter.info(f"rollback to version {target.version} issued as version {p.rollback_version}")
        self._rollback_issued(runtime_id, mine, target, s)

    def _rollback_issued(self, runtime_id: str, mine: str, target: Tested | None, s: Situation) -> None:
        p = self.publisher
        version, status = p.rollback_version, ""
        while True:
            state = p.clients.control.get_runtime(runtime_id, version)
            status = str(state.get("status", ""))
            if status not in IN_PROGRESS or self.left() <= 0.5:
                break
            p.clients.sleep(0.5)
        p.outcome.runtime_version = version
        to = target.version if target else "the last tested version"
        p.outcome.rolled_back_to = target.version if target else ""
        if status == "READY":
            self.rolled_back = True
            self.notes.append(f"Rolled back to v{to} (as version {version}, READY).")
        elif status in IN_PROGRESS:
            self.notes.append(f"Rollback to v{to} issued as version {version}, still {status}: it serves the "
                              f"tested image once READY; until then DEFAULT serves version {mine or '?'}.")
        else:
            self.notes.append(f"Rollback to v{to} (version {version}) is {status}; fix: "
                              f"`{fix_command(p.settings, runtime_id)}`.")


def after_interrupt(publisher: Publisher, stop: Interrupted) -> NoReturn:
    """Clean up, fill the outcome (status, what was left behind), raise the error that sets the exit code."""
    reporter, settings, outcome = publisher.reporter, publisher.settings, publisher.outcome
    phase = next((ph.title for ph in reversed(reporter.phases) if not ph.ok), "start")
    why = f"the whole publish exceeded --timeout {settings.timeout}s" if stop.timed_out \
        else f"{stop.name} (the job was cancelled)"
    reporter.warning(f"Stopped during '{phase}': {why}. Cleaning up.", title="Timed out" if stop.timed_out
                     else "Cancelled")
    cleanup = Cleanup(publisher, stop)
    with reporter.group("Clean up"):
        cleanup.run()
    outcome.left_behind.extend(cleanup.notes)
    for note in cleanup.notes:
        reporter.warning(note, title="Left behind")
    message = f"Stopped during '{phase}': {why}. {' '.join(cleanup.notes)}"
    outcome.error = message
    if stop.timed_out:
        outcome.status = PublishStatus.ROLLED_BACK if cleanup.rolled_back else PublishStatus.FAILED
        raise OperationFailed(message, hint="Raise --timeout, or leave it unset.", title="Timed out")
    outcome.status = PublishStatus.CANCELLED
    raise Cancelled(message, exit_code=stop.exit_code, title=f"Cancelled by {stop.name}")
