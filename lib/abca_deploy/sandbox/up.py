"""``sandbox up``: start the missing services, make the base image available, seed the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.environment import docker_platform
from abca_deploy.sandbox.state import State, load, save

if TYPE_CHECKING:
    from collections.abc import Set

    from abca_deploy.report import Reporter
    from abca_deploy.sandbox.stack import Sandbox


def probe_engine(engine: Any) -> tuple[str | None, str | None]:
    """The engine's platform (``linux/amd64``) and the base image to build on, without building anything."""
    if engine is None:
        return None, None
    from abca_deploy.sandbox.baseimage import DEFAULT_BASE, OFFLINE_BASE, has_image

    platform = docker_platform(str(engine.info().get("Architecture", "")) or None)
    return platform, DEFAULT_BASE if has_image(engine, DEFAULT_BASE) else OFFLINE_BASE


def bring_up(sandbox: Sandbox, reporter: Reporter, *, seed: bool, wait_timeout: int, explicit: Set[str],
             shape: str | None = None) -> tuple[State, list[str], dict[str, Any] | None]:
    """Start what is missing and seed; returns the state, the services started, and the seeded platform."""
    state = load(sandbox.state_dir) or State(instance=sandbox.instance)
    sandbox.instance = state.instance
    _warn_port_changes(sandbox, state, reporter, explicit)
    with reporter.group("Start the sandbox services"):
        started = sandbox.start_missing(state, reporter.info)
        _warn_container_errors(sandbox, state, reporter, explicit, started)
    with reporter.group("Base image"):
        from abca_deploy.sandbox.baseimage import choose_base

        state.platform, _ = probe_engine(sandbox.engine)
        state.base_image = choose_base(sandbox.engine)
        reporter.info(f"building on {state.base_image} for {state.platform}")
        save(sandbox.state_dir, state)
    if not seed:
        return state, started, state.seed or None
    from abca_deploy.sandbox.integrated import UNPATCHED

    seeded_shape = state.seed.get("shape", UNPATCHED) if state.seed else None
    chosen = shape or seeded_shape or UNPATCHED
    with reporter.group(f"Seed the ABCA-shaped platform ({chosen})"):
        if seeded_shape is not None and seeded_shape != chosen:
            reporter.info(f"changing the seeded platform from the {seeded_shape} to the {chosen} shape")
        seeded = _seed(sandbox, state, reporter, wait_timeout, chosen)
        reporter.info("nothing to seed: everything exists" if not seeded["created"] else
                      f"created: {', '.join(seeded['created'])}")
    return state, started, seeded


def _seed(sandbox: Sandbox, state: State, reporter: Reporter, wait_timeout: int,
          shape: str) -> dict[str, Any]:
    from abca_deploy.sandbox.seed import Endpoints, Seeder
    from abca_deploy.sandbox.stack import API, EMULATOR, MOTO, REGISTRY, address

    ports = {name: record.port for name, record in state.services.items()}
    endpoints = Endpoints(moto=address(MOTO, ports[MOTO]), emulator=address(EMULATOR, ports[EMULATOR]),
                          registry=address(REGISTRY, ports[REGISTRY]), api=address(API, ports[API]))
    seeder = Seeder(endpoints, sandbox.engine, base_image=state.base_image or "", wait_timeout=wait_timeout,
                    log=reporter.info, warn=lambda m: reporter.warning(m, title="Seed"),
                    detail=reporter.debug, shape=shape)
    seeded = seeder.run().to_dict()
    state.seed = seeded
    save(sandbox.state_dir, state)
    return seeded


def _warn_container_errors(sandbox: Sandbox, state: State, reporter: Reporter, explicit: Set[str],
                           started: list[str]) -> None:
    """--container-errors applies when the emulator starts: say so when a running one uses another form."""
    import json
    import urllib.request

    from abca_deploy.sandbox.stack import EMULATOR, health_url

    record = state.services.get(EMULATOR)
    if "container_errors" not in explicit or record is None or EMULATOR in started:
        return
    try:
        with urllib.request.urlopen(health_url(EMULATOR, record.port), timeout=5) as answer:
            running = json.loads(answer.read()).get("containerErrors")
    except (OSError, ValueError):
        return
    if running and running != sandbox.container_errors:
        reporter.warning(f"The sandbox's emulator already runs with --container-errors {running}; "
                         f"--container-errors {sandbox.container_errors} applies only after "
                         "`abca-deploy sandbox down`.", title="Container-error form unchanged")


def _warn_port_changes(sandbox: Sandbox, state: State, reporter: Reporter, explicit: Set[str]) -> None:
    running = {s.name for s in sandbox.status(state) if s.up}
    for name, record in state.services.items():
        wanted = sandbox.ports.of(name)
        if f"{name}_port" in explicit and record.port != wanted and name in running:
            reporter.warning(f"The sandbox's {name} already runs on port {record.port}; --{name}-port "
                             f"{wanted} applies only after `abca-deploy sandbox down`.",
                             title="Port unchanged")
