"""Fault injection: real ``abca-deploy runtime publish`` processes cancelled, raced, starved, fed bad input.

Each case asserts what the user sees (exit code, status output, summary, the one-line error) and what AWS
holds afterwards (the runtime's versions, the image DEFAULT serves, the last-tested records, the lease).
The signal cases run concurrently, one runtime each, to keep the suite's wall time down.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tests.integration.faults import REGION, Result, Run, Runtime, Sandbox, agent_context
from tests.integration.test_publish import HOST_PLATFORM

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from abca_deploy.sandbox.registry import Registry

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
SLOW_START = ["sh", "-c", "sleep 8; exec python3 /app/server.py"]


@pytest.fixture(scope="module")
def sandbox(
    moto_server: str,
    registry: Registry,
    base_image: str,
    docker_client: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Sandbox]:
    """moto, the session's registry, and an emulator that waits up to 90 s for a slow agent's /ping."""
    from abca_deploy.sandbox.emulator.server import EmulatorServer

    emulator = EmulatorServer(
        registry=registry.host, docker=docker_client, ping_timeout=90.0, instance="pytest-faults"
    )
    emulator.start()
    yield Sandbox(
        moto_server, emulator.url, registry.host, base_image, HOST_PLATFORM, tmp_path_factory.mktemp("faults")
    )
    emulator.stop()
    for image in docker_client.images.list(name=f"{registry.host}/abca-test/agent"):
        for tag in image.tags:  # the content tags our publishes built (this session's registry port)
            if ":ctx-" in tag:
                docker_client.images.remove(tag, noprune=False)


def fix_command(note: str) -> list[str]:
    """The command a left-behind note tells the operator to run, as argv after `abca-deploy`."""
    found = re.search(r"`abca-deploy (runtime rollback [^`]+)`", note)
    assert found, note
    return found.group(1).split()


def publish(
    sandbox: Sandbox, runtime: Runtime, context: Path, *flags: str, env: dict[str, str] | None = None
) -> Run:
    """Start a real publish of ``context`` to ``runtime``."""
    return Run(
        sandbox,
        [
            "runtime",
            "publish",
            "--runtime-id",
            runtime.runtime_id,
            "--context",
            str(context),
            "--wait-timeout",
            "120",
            *flags,
        ],
        env=env,
    )


# -- a signal at each phase ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """Where to signal, which signal starts GitHub's sequence, and how to make that phase last."""

    marker: str
    first: signal.Signals
    context: dict[str, int]
    flags: tuple[str, ...] = ()
    slow_seed: bool = False


PHASES = {
    "build": Case("building ", signal.SIGINT, {"build_sleep": 60}),
    "push": Case("pushing layers to the registry", signal.SIGTERM, {"big_layer_mb": 200}),
    "update": Case("::group::Update runtime", signal.SIGINT, {}),
    "wait": Case("::group::Wait for version", signal.SIGINT, {"start_sleep": 25}),
    "smoke": Case("::group::Smoke test", signal.SIGTERM, {"smoke_sleep": 40}),
    "rollback": Case(
        "::group::Roll back to version",
        signal.SIGINT,
        {},
        ("--smoke-expect", "NEVER-MATCHES"),
        slow_seed=True,
    ),
}


@dataclass
class Observed:
    """One phase's run, what was run to fix it, and what AWS held at the end."""

    result: Result
    fix: Result | None
    status: Result
    versions: dict[str, str]
    default_image: str
    seed: str
    lease: list[tuple[int, bool]]
    records: list[dict[str, Any]]


def _cancel_at(sandbox: Sandbox, phase: str, seed: str) -> Observed:
    case = PHASES[phase]
    runtime = sandbox.create_runtime(seed, name=phase)
    context = agent_context(sandbox.work, f"{phase} cancelled", **case.context)
    run = publish(sandbox, runtime, context, *case.flags)
    try:
        run.wait_for(case.marker)
        run.cancel_like_github(case.first)
    finally:
        result = run.finish()
    runtime.settle(180)
    fix = None
    notes = result.doc.get("left_behind", [])
    if any("--if-untested" in note for note in notes):  # what the workflow's `if: cancelled()` step runs
        fix = Run(sandbox, fix_command(next(n for n in notes if "--if-untested" in n))).finish()
        runtime.settle(180)
    status = Run(sandbox, ["runtime", "status", "--runtime-id", runtime.runtime_id]).finish()
    observed = Observed(
        result,
        fix,
        status,
        runtime.versions(),
        runtime.default_image(),
        seed,
        runtime.lease(),
        runtime.records(),
    )
    runtime.delete()
    return observed


@pytest.fixture(scope="module")
def cancelled(sandbox: Sandbox, agent_image: Callable[..., str]) -> dict[str, Observed]:
    """Every phase cancelled at once, one runtime each, the way GitHub cancels a job."""
    sandbox.reset_moto()
    seeds = {
        phase: agent_image(message="seed", cmd=SLOW_START if case.slow_seed else None)
        for phase, case in PHASES.items()
    }
    with ThreadPoolExecutor(max_workers=len(PHASES)) as pool:
        futures = {phase: pool.submit(_cancel_at, sandbox, phase, seeds[phase]) for phase in PHASES}
        return {phase: future.result() for phase, future in futures.items()}


@pytest.mark.parametrize("phase", PHASES)
def test_a_cancel_exits_with_the_signals_code_in_the_grace_period_and_says_what_it_left(
    cancelled: dict[str, Observed], phase: str
) -> None:
    seen = cancelled[phase]
    result, first = seen.result, PHASES[phase].first
    assert result.code == 128 + first, result.err
    assert result.signals == [first.name]  # it exited before GitHub's next signal
    assert result.outputs["status"] == "cancelled"
    assert result.doc["status"] == "cancelled"
    assert "AgentCore runtime publish: cancelled" in result.summary
    assert "**Left behind**" in result.summary
    assert result.doc["left_behind"]
    assert f"::error title=Cancelled by {first.name}::Stopped during" in result.err


@pytest.mark.parametrize("phase", PHASES)
def test_after_a_cancel_the_runtime_serves_a_tested_image_and_the_lease_is_free(
    cancelled: dict[str, Observed], phase: str
) -> None:
    seen = cancelled[phase]
    assert seen.default_image == seen.seed
    assert all(released for _, released in seen.lease), seen.lease
    assert json.loads(seen.status.outputs["tested"]) is True, seen.status.err
    assert all(record["image"] == seen.seed for record in seen.records)  # no untested image was recorded


@pytest.mark.parametrize(
    ("phase", "left", "versions"),
    [
        ("build", "Nothing changed on the runtime", 1),
        ("push", "Nothing changed on the runtime", 1),
        ("wait", "Version 2 (untested) is still UPDATING", 3),
        ("smoke", "to v1", 3),
        ("rollback", "to v1", 3),
    ],
)
def test_what_each_phase_leaves_behind(
    cancelled: dict[str, Observed], phase: str, left: str, versions: int
) -> None:
    seen = cancelled[phase]
    assert left in " ".join(seen.result.doc["left_behind"])
    assert len(seen.versions) == versions, seen.versions


def test_a_cancel_during_the_update_leaves_nothing_or_rolls_back(cancelled: dict[str, Observed]) -> None:
    notes = " ".join(cancelled["update"].result.doc["left_behind"])
    assert notes.startswith("Nothing changed") or "to v1" in notes, notes


def test_the_wait_case_is_finished_by_the_printed_command(cancelled: dict[str, Observed]) -> None:
    fix = cancelled["wait"].fix
    assert fix is not None
    assert fix.code == 0, fix.err
    assert fix.doc["action"] == "rolled-back"
    assert fix.doc["rolled_back_to"] == "1"
    assert "Live version 2" in fix.err


# -- concurrent publishes ------------------------------------------------------------------------------------
@pytest.fixture
def world(sandbox: Sandbox, agent_image: Callable[..., str]) -> Iterator[Runtime]:
    """A fresh moto and a runtime serving a seed image."""
    sandbox.reset_moto()
    runtime = sandbox.create_runtime(agent_image(message="seed"))
    yield runtime
    runtime.delete()


def test_three_publishes_naming_the_runtime_three_ways_take_turns(sandbox: Sandbox, world: Runtime) -> None:
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},  # any resource moto can create
        "Outputs": {"RuntimeArn": {"Value": world.arn}},
    }
    sandbox.client("cloudformation").create_stack(StackName="abca-faults", TemplateBody=json.dumps(template))
    names = {
        "id": ["--runtime-id", world.runtime_id],
        "arn": ["--runtime-arn", world.arn],
        "stack": ["--stack-name", "abca-faults"],
    }
    runs = {
        how: Run(
            sandbox,
            [
                "runtime",
                "publish",
                *argv,
                "--context",
                str(agent_context(sandbox.work, f"named by {how}")),
                "--wait-timeout",
                "120",
            ],
        )
        for how, argv in names.items()
    }
    results = {how: run.finish() for how, run in runs.items()}
    for how, result in results.items():
        assert result.code == 0, f"{how}: {result.err}"
        assert result.doc["status"] == "deployed"
    order = sorted(results.values(), key=lambda r: int(r.doc["runtime_version"]))
    assert [r.doc["runtime_version"] for r in order] == ["2", "3", "4"]
    assert [r.doc["previous_version"] for r in order] == ["1", "2", "3"]  # each started from the one before
    assert sum("Another publish holds runtime" in r.err for r in order) >= 2
    assert world.default_image() == order[-1].doc["image_uri"]
    records = world.records()
    assert [(r["version"], r["image"]) for r in records[:3]] == [
        (r.doc["runtime_version"], r.doc["image_uri"]) for r in reversed(order)
    ]
    lease = world.lease()
    assert len(lease) == 1
    assert lease[0][1] is True


def test_a_second_publish_gives_up_naming_the_holder(sandbox: Sandbox, world: Runtime) -> None:
    holder = publish(sandbox, world, agent_context(sandbox.work, "holder", build_sleep=40))
    try:
        holder.wait_for("held by this run")
        context = agent_context(sandbox.work, "second")
        second = Run(  # named by its ARN: the lease is keyed on the runtime, not on how a caller names it
            sandbox,
            [
                "runtime",
                "publish",
                "--runtime-arn",
                world.arn,
                "--context",
                str(context),
                "--lease-timeout",
                "4",
            ],
        ).finish()
    finally:
        holder.cancel_like_github()
        holder.finish()
    assert second.code == 1
    assert second.outputs["status"] == "failed"
    error = next(line for line in second.err.splitlines() if line.startswith("::error"))
    assert f"runtime {world.runtime_id} is locked by" in error
    assert f"pid {holder.proc.pid}" in error
    assert world.versions() == {"1": "READY"}


# -- timeouts ------------------------------------------------------------------------------------------------
def test_wait_timeout_counts_from_the_update_call(sandbox: Sandbox, world: Runtime) -> None:
    result = publish(
        sandbox, world, agent_context(sandbox.work, "slow build", build_sleep=14), "--wait-timeout", "12"
    ).finish()
    assert result.code == 0, result.err
    build = next(p["seconds"] for p in result.doc["phases"] if p["phase"] == "Build and push")
    assert build > 12
    assert world.default_image() == result.doc["image_uri"]


def test_a_slow_agent_past_wait_timeout_names_the_untested_version_and_the_fix(
    sandbox: Sandbox, world: Runtime
) -> None:
    result = publish(
        sandbox, world, agent_context(sandbox.work, "slow agent", start_sleep=25), "--wait-timeout", "4"
    ).finish()
    assert result.code == 1
    assert result.outputs["status"] == "failed"
    assert "Version 2 was not READY within --wait-timeout 4s of the update call" in result.err
    assert "Version 2 (untested) was still in flight after --wait-timeout 4s" in result.err
    fix = Run(sandbox, fix_command(result.err)).finish()
    assert fix.code == 0, fix.err
    assert fix.doc["rolled_back_to"] == "1"
    assert world.default_image() == world.seed
    assert [r["version"] for r in world.records()] == ["1"]  # only the baseline: version 2 was never tested


def test_the_whole_publish_timeout_stops_the_build_and_changes_nothing(
    sandbox: Sandbox, world: Runtime
) -> None:
    result = publish(
        sandbox, world, agent_context(sandbox.work, "endless build", build_sleep=60), "--timeout", "8"
    ).finish()
    assert result.code == 1
    assert result.seconds < 40
    assert "the whole publish exceeded --timeout 8s" in result.err
    assert "during 'Build and push'" in result.err
    assert result.outputs["status"] == "failed"
    assert world.versions() == {"1": "READY"}


# -- a killed holder, another writer -------------------------------------------------------------------------
def test_a_killed_holder_expires_and_its_untested_version_is_never_a_rollback_target(
    sandbox: Sandbox, world: Runtime
) -> None:
    killed = publish(
        sandbox, world, agent_context(sandbox.work, "killed", smoke_sleep=60), env={"ABCA_LEASE_TTL": "6"}
    )
    killed.wait_for("::group::Smoke test")
    killed.proc.kill()  # SIGKILL: no clean-up, no release; version 2 is live and untested
    killed.finish()
    result = publish(
        sandbox, world, agent_context(sandbox.work, "after the kill"), "--smoke-expect", "NEVER-MATCHES"
    ).finish()
    assert "Took over the lease" in result.err
    assert "expired" in result.err
    assert "serves version 2" in result.err
    assert "It is not a rollback target" in result.err
    assert result.code == 1
    assert result.doc["status"] == "rolled-back"
    assert result.doc["rolled_back_to"] == "1"
    world.settle()
    assert world.default_image() == world.seed
    assert world.lease() == [(2, True)]


def test_a_version_replaced_by_another_writer_is_superseded_and_not_rolled_back(
    sandbox: Sandbox, world: Runtime, agent_image: Callable[..., str]
) -> None:
    run = publish(sandbox, world, agent_context(sandbox.work, "replaced", smoke_sleep=12))
    run.wait_for("::group::Smoke test")
    other = agent_image(message="another writer")
    request = world.control.get_agent_runtime(agentRuntimeId=world.runtime_id, agentRuntimeVersion="1")
    world.control.update_agent_runtime(  # as a `cdk deploy` would: it does not take abca-deploy's lease
        agentRuntimeId=world.runtime_id,
        roleArn=request["roleArn"],
        agentRuntimeArtifact={"containerConfiguration": {"containerUri": other}},
        networkConfiguration=request["networkConfiguration"],
    )
    result = run.finish()
    assert result.code == 1
    assert result.outputs["status"] == "superseded"
    assert "replaced version 2" in " ".join(result.doc["left_behind"])
    world.settle()
    assert sorted(world.versions()) == ["1", "2", "3"]  # no rollback of someone else's version
    assert world.default_image() == other
    assert [r["version"] for r in world.records()] == ["1"]


# -- hostile input: refused before anything changes ----------------------------------------------------------
HOSTILE = [
    (
        ["--image-parameter", "/aws/service/image"],
        "--image-parameter: is not an SSM parameter name: it may not",
    ),
    (["--image-parameter", "SSM-image"], "--image-parameter: is not an SSM parameter name: it may not start"),
    (["--image-parameter", "abca/image"], "a hierarchy must start with '/'"),
    (["--image-parameter", "/" + "a" * 1000], "characters long"),
    (["--image-parameter", "/abca-deploy/runtime/x/last-tested"], "abca-deploy keeps its own state"),
    (["--dockerfile", "../../../../etc/passwd"], "--dockerfile: must be a path inside --context"),
    (["--dockerfile", "/etc/passwd"], "--dockerfile: must be a path inside --context"),
    (["--dockerfile", "agent/Link"], "--dockerfile: 'agent/Link' resolves outside --context"),
    (["--context", "/dev/zero"], "--context: '/dev/zero' is not a directory"),
    (
        ["--runtime-arn", "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/../x"],
        "--runtime-arn: is not an AgentCore runtime ARN",
    ),
    (["--timeout", "0"], "--timeout: Input should be greater than 0"),
    (["--lease-timeout", "-5"], "--lease-timeout: Input should be greater than 0"),
    (["--debug", "--dockerfile", "/etc/passwd"], "--dockerfile: must be a path inside --context"),
]


@pytest.mark.parametrize(("flags", "message"), HOSTILE, ids=[" ".join(f)[:40] for f, _ in HOSTILE])
def test_hostile_input_is_exit_2_one_line_and_nothing_changes(
    sandbox: Sandbox, world: Runtime, flags: list[str], message: str
) -> None:
    context = agent_context(sandbox.work, "hostile")
    (context / "agent" / "Link").symlink_to("/etc/passwd")
    argv = ["--context", str(context), *flags]
    if "--runtime-arn" not in flags:
        argv = ["--runtime-id", world.runtime_id, *argv]
    debug = "--debug" in flags
    result = Run(
        sandbox,
        ["runtime", "publish", *[f for f in argv if f != "--debug"]],
        env={"RUNNER_DEBUG": "1"} if debug else None,
    ).finish()
    assert result.code == 2, result.err
    errors = [line for line in result.err.splitlines() if line.startswith("::error")]
    assert len(errors) == 1, result.err
    assert message in errors[0]
    assert "root:" not in result.err + json.dumps(result.doc)
    assert world.versions() == {"1": "READY"}
    assert sandbox.client("ecr").describe_images(repositoryName="abca-test/agent")["imageDetails"] == []
    assert sandbox.client("ssm").get_parameters_by_path(Path="/", Recursive=True)["Parameters"] == []


# -- the action's step: GitHub signals bash's pid only -------------------------------------------------------
def test_the_action_step_passes_githubs_cancel_to_the_publish(sandbox: Sandbox, world: Runtime) -> None:
    """The runner runs a `run:` with `bash --noprofile --norc -e -o pipefail` and signals that bash alone."""
    action = yaml.safe_load((ROOT / "actions/publish-runtime/action.yml").read_text())
    script = sandbox.work / "publish-step.sh"
    script.write_text(next(s for s in action["runs"]["steps"] if s.get("id") == "publish")["run"])
    output = sandbox.work / "action-outputs"
    env = sandbox.env(
        GITHUB_ACTION_PATH=str(ROOT / "actions/publish-runtime"),
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(output),
        ABCA_RUNTIME_ID=world.runtime_id,
        ABCA_AWS_REGION=REGION,
        ABCA_CONTEXT=str(agent_context(sandbox.work, "action", build_sleep=60)),
    )
    with subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    ) as bash:
        assert bash.stderr is not None
        seen = threading.Event()

        def watch() -> None:
            assert bash.stderr is not None
            for line in bash.stderr:
                if "building " in line:
                    seen.set()

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        assert seen.wait(180)
        bash.send_signal(signal.SIGINT)
        try:
            code = bash.wait(7.5)  # before GitHub's SIGTERM
        finally:
            if bash.poll() is None:
                bash.kill()
        reader.join(10)
    assert code == 130
    assert "status<<" in output.read_text()
    assert "\ncancelled\n" in output.read_text()
    assert world.versions() == {"1": "READY"}
