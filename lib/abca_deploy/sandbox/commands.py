"""The ``sandbox`` commands: up, down, status, env."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from abca_deploy.abca_stack import DOMAIN_LIST_OUTPUT, IMAGE_PARAMETER_OUTPUT, IMAGE_REPOSITORY_OUTPUT
from abca_deploy.report import text_table
from abca_deploy.sandbox.settings import SandboxSettings, UpSettings
from abca_deploy.sandbox.state import default_state_dir
from abca_deploy.settings import Command

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.report import Reporter
    from abca_deploy.sandbox.stack import Ports, Sandbox, ServiceStatus
    from abca_deploy.sandbox.state import State


def _sandbox(settings: SandboxSettings, engine: Any) -> Sandbox:
    from abca_deploy.sandbox.stack import Sandbox

    return Sandbox(settings.state_dir, settings.ports(), engine)


@contextlib.contextmanager
def _docker(*, required: bool = False, wanted: bool = True) -> Iterator[Any]:
    """A docker SDK client, closed afterwards; None if not ``wanted`` or unreachable (unless ``required``)."""
    from abca_deploy.docker_engine import connect
    from abca_deploy.errors import OperationFailed

    engine = None
    if wanted:
        try:
            _check_socket()
            engine = connect()
        except OperationFailed:
            if required:
                raise
    try:
        yield engine
    finally:
        if engine is not None:
            engine.close()


def _check_socket() -> None:
    """Fail fast, without the docker SDK, when DOCKER_HOST's unix socket accepts no connection.

    (The SDK leaks the socket of a failed unix connect, which Python reports as a ResourceWarning.)
    """
    import os
    import socket

    from abca_deploy.docker_engine import DOCKER_HINT
    from abca_deploy.errors import OperationFailed

    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(host.removeprefix("unix://"))
        except OSError as exc:
            msg = f"No Docker Engine is reachable ({host}: {exc.strerror or exc})."
            raise OperationFailed(msg, hint=DOCKER_HINT, title="No Docker Engine") from None


def _has_containers(state: State | None) -> bool:
    return state is not None and any(r.container_id for r in state.services.values())


def _services_table(services: list[ServiceStatus]) -> str:
    rows = [[s.name, "up" if s.up else "down", s.process, s.address] for s in services]
    return text_table(["SERVICE", "STATE", "PROCESS", "ADDRESS"], rows)


def _services_doc(services: list[ServiceStatus]) -> list[dict[str, Any]]:
    return [{"name": s.name, "up": s.up, "address": s.address, "pid": s.pid, "container_id": s.container_id,
             "log": s.log} for s in services]


# -- up ---------------------------------------------------------------------------------------------------
def up(settings: UpSettings, reporter: Reporter) -> int:
    """Start what is missing, seed unless --no-seed, and print a summary."""
    from abca_deploy.sandbox.up import bring_up

    with _docker(required=True) as engine:
        sandbox = _sandbox(settings, engine)
        sandbox.container_errors = settings.container_errors
        state, started, seeded = bring_up(sandbox, reporter, seed=not settings.no_seed,
                                          wait_timeout=settings.wait_timeout,
                                          explicit=settings.model_fields_set, shape=settings.shape)
        services = sandbox.status(state)
    doc = {"status": "up" if all(s.up for s in services) else "degraded",
           "state_dir": str(settings.state_dir),
           "instance": sandbox.instance, "started": started, "services": _services_doc(services),
           "seed": seeded}
    reporter.result(doc, _up_text(settings, sandbox, services, started, seeded))
    return 0 if doc["status"] == "up" else 1


def _up_text(settings: UpSettings, sandbox: Sandbox, services: list[ServiceStatus], started: list[str],
             seeded: dict[str, Any] | None) -> str:
    state_flag = "" if settings.state_dir == default_state_dir() else f" --state-dir {settings.state_dir}"
    head = "Sandbox started" if started else "Sandbox already running; nothing to start"
    lines = [f"{head} (state dir {settings.state_dir}, instance {sandbox.instance}).", "",
             _services_table(services)]
    if seeded:
        rows = [["RepoTableName", seeded["repo_table"]], ["GitHubTokenSecretArn", seeded["secret_arn"]],
                ["RuntimeArn", seeded["runtime_arn"]], ["ApiUrl", seeded["api_url"]],
                ["UserPoolId", seeded["user_pool_id"]], ["AppClientId", seeded["app_client_id"]]]
        if seeded.get("domain_list_id"):
            rows += [[IMAGE_PARAMETER_OUTPUT, seeded["image_parameter"]],
                     [IMAGE_REPOSITORY_OUTPUT, seeded["image_repository"]],
                     [DOMAIN_LIST_OUTPUT, seeded["domain_list_id"]]]
        rows += [["runtime", f"{seeded['runtime_status']}, version {seeded['runtime_version']}"],
                 ["image", seeded["image_uri"]]]
        shape = seeded.get("shape", "unpatched")
        lines += ["", f"Seeded platform ({shape} ABCA, stack {seeded['stack_name']}):",
                  text_table(["OUTPUT", "VALUE"], rows)]
    publish = f"abca-deploy runtime publish --stack-name backgroundagent-dev --context {_example_context()}"
    lines += ["", "Next:", f'  eval "$(abca-deploy sandbox env{state_flag})"',
              "  abca-deploy runtime status --stack-name backgroundagent-dev", f"  {publish}",
              f"  abca-deploy sandbox token{state_flag} --user admin   # an ID token for the repository API",
              f"  abca-deploy sandbox down{state_flag}"]
    return "\n".join(lines)


def _example_context() -> str:
    """The example agent's build context (a checkout's examples/, or the installed package's copy)."""
    from pathlib import Path

    from abca_deploy.sandbox.seed import EXAMPLES

    return str(EXAMPLES.relative_to(Path.cwd())) if EXAMPLES.is_relative_to(Path.cwd()) else str(EXAMPLES)


# -- status -----------------------------------------------------------------------------------------------
def status(settings: SandboxSettings, reporter: Reporter) -> int:
    """Show each service; exit 0 when all are up."""
    from abca_deploy.sandbox.stack import load_state

    state = load_state(settings.state_dir)
    with _docker(wanted=_has_containers(state)) as engine:
        services = _sandbox(settings, engine).status(state)
    all_up = all(s.up for s in services)
    doc = {"status": "up" if all_up else ("down" if not any(s.up for s in services) else "degraded"),
           "state_dir": str(settings.state_dir), "services": _services_doc(services),
           "seed": state.seed if state and state.seed else None}
    text = [f"Sandbox is {doc['status']} (state dir {settings.state_dir}).", "", _services_table(services)]
    if state and state.seed:
        shape = state.seed.get("shape", "unpatched")
        text += ["", f"Seeded: {shape} ABCA, stack {state.seed['stack_name']}, "
                     f"runtime {state.seed['runtime_arn']}"]
    if not all_up:
        text += ["", "Start it with: abca-deploy sandbox up"]
    reporter.result(doc, "\n".join(text))
    return 0 if all_up else 1


# -- down -------------------------------------------------------------------------------------------------
def down(settings: SandboxSettings, reporter: Reporter) -> int:
    """Stop exactly what ``up`` started and remove the state it wrote."""
    from abca_deploy.sandbox.stack import load_state

    state = load_state(settings.state_dir)
    with _docker() as engine:
        if engine is None:
            reporter.warning("No Docker Engine is reachable: sandbox containers (if any) were not removed.",
                             title="No Docker Engine")
        sandbox = _sandbox(settings, engine)
        if state is not None:
            sandbox.instance = state.instance
        stopped = sandbox.stop_all(state, reporter.info)
    left = sandbox.remove_state()
    if left:
        reporter.warning(f"Kept {settings.state_dir}: it holds files the sandbox did not write "
                         f"({', '.join(left)}).", title="State dir kept")
    text = f"Stopped {', '.join(stopped)}." if stopped else "Nothing was running."
    reporter.result({"status": "down", "stopped": stopped, "state_dir": str(settings.state_dir)},
                    f"{text} State removed from {settings.state_dir}.")
    return 0


# -- env --------------------------------------------------------------------------------------------------
def env(settings: SandboxSettings, reporter: Reporter) -> int:
    """Print export lines (or a JSON object) pointing AWS tools and abca-deploy at the sandbox."""
    from abca_deploy.sandbox.environment import export_lines, variables
    from abca_deploy.sandbox.stack import load_state

    state = load_state(settings.state_dir)
    ports, platform, base = _env_facts(settings, state)
    if not _all_up(settings, state):
        reporter.warning(f"The sandbox is not up (state dir {settings.state_dir}); these settings point at "
                         "ports nothing may listen on. Start it with `abca-deploy sandbox up`.",
                         title="Sandbox not up")
    client_id = str(state.seed.get("app_client_id") or "") if state is not None else ""
    values = variables(ports, platform=platform, base_image=base, app_client_id=client_id or None)
    where = " ".join(str(settings.state_dir).split())  # the header is a comment: keep it on one line
    header = f'abca-deploy sandbox ({where}). Use: eval "$(abca-deploy sandbox env)"'
    reporter.result(values, export_lines(values, header=header))
    return 0


def _env_facts(settings: SandboxSettings, state: State | None) -> tuple[Ports, str, str | None]:
    from abca_deploy.sandbox.environment import docker_platform
    from abca_deploy.sandbox.stack import Ports

    ports = settings.ports()
    if state is not None:
        recorded = {name: record.port for name, record in state.services.items()}
        ports = Ports(moto=recorded.get("moto", ports.moto),
                      registry=recorded.get("registry", ports.registry),
                      emulator=recorded.get("emulator", ports.emulator),
                      api=recorded.get("api", ports.api))
    if state is not None and state.platform:
        return ports, state.platform, state.base_image
    from abca_deploy.sandbox.up import probe_engine

    with _docker() as engine:
        platform, base = probe_engine(engine)
    return ports, platform or docker_platform(), base


def _all_up(settings: SandboxSettings, state: State | None) -> bool:
    if state is None:
        return False
    with _docker(wanted=_has_containers(state)) as engine:
        return all(s.up for s in _sandbox(settings, engine).status(state))


UP = Command(settings=UpSettings, run=up,
             help="Start the sandbox (idempotent) and seed an ABCA-shaped platform.")
DOWN = Command(settings=SandboxSettings, run=down,
               help="Stop exactly what 'up' started and remove its state.")
STATUS = Command(settings=SandboxSettings, run=status,
                 help="Show each sandbox service; exit 0 when all are up, 1 otherwise.")
ENV = Command(settings=SandboxSettings, run=env,
              help="Print export lines that point boto3, the AWS CLI and abca-deploy at the sandbox.")
