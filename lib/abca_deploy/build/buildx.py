"""BuildKit through the ``docker buildx`` CLI plugin: probe the builder, build and push, report reuse.

Credentials never touch the user's Docker config: each publish writes a private one (the user's, plus the
registry's credentials, minus any credential store that would shadow them) into a temporary directory that
is removed afterwards. Builders stay the user's own (``BUILDX_CONFIG`` keeps pointing at them), so one
made by docker/setup-buildx-action is the one used.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from abca_deploy.build.plan import REGISTRY_CACHE_OPTIONS, Builder, BuildReport
from abca_deploy.build.progress import BuildProgress
from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from abca_deploy.build.plan import BuildRequest

_EXPORTING_DRIVERS = ("docker-container", "remote", "kubernetes")


def _user_config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


@contextlib.contextmanager
def docker_env(credentials: Mapping[str, tuple[str, str]]) -> Iterator[dict[str, str]]:
    """An environment whose DOCKER_CONFIG holds ``{registry host: (user, password)}``; removed on exit."""
    user_dir = _user_config_dir()
    try:
        config = json.loads((user_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    config.pop("credsStore", None)  # a store would be asked instead of the credentials written here
    helpers = {k: v for k, v in (config.get("credHelpers") or {}).items() if k not in credentials}
    config["credHelpers"] = helpers
    auths = dict(config.get("auths") or {})
    for host, (username, password) in credentials.items():
        auths[host] = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    config["auths"] = auths
    extra = [str(user_dir / "cli-plugins"), *(config.get("cliPluginsExtraDirs") or [])]
    config["cliPluginsExtraDirs"] = extra
    with tempfile.TemporaryDirectory(prefix="abca-docker-") as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        path.chmod(0o600)
        env = {**os.environ, "DOCKER_CONFIG": tmp,
               "BUILDX_CONFIG": os.environ.get("BUILDX_CONFIG") or str(user_dir / "buildx")}
        env.pop("DOCKER_BUILDKIT", None)  # buildx is BuildKit whatever this says; the setting decides
        yield env


def probe(env: Mapping[str, str]) -> tuple[Builder | None, str]:
    """The selected buildx builder, or None and why not."""
    docker = shutil.which("docker", path=env.get("PATH"))
    if docker is None:
        return None, "no docker CLI on PATH"
    done = _run([docker, "buildx", "inspect"], env)
    if done.returncode != 0:
        return None, (done.stderr.strip().splitlines() or ["docker buildx inspect failed"])[-1][:200]
    fields = dict(_field(line) for line in done.stdout.splitlines() if ":" in line)
    driver = fields.get("Driver", "")
    exports = driver in _EXPORTING_DRIVERS or (driver == "docker" and _containerd_store(docker, env))
    return Builder(name=fields.get("Name", ""), driver=driver, exports_cache=exports), ""


def _field(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value.strip()


def _containerd_store(docker: str, env: Mapping[str, str]) -> bool:
    """True when the engine keeps images in containerd (then its docker driver can export caches)."""
    done = _run([docker, "info", "--format", "{{json .DriverStatus}}"], env)
    return done.returncode == 0 and "io.containerd.snapshotter" in done.stdout


def _run(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 1, "", str(exc))


def build_command(docker: str, request: BuildRequest, metadata: Path) -> list[str]:
    """The ``docker buildx build`` argv: one platform, no attestations (a single-manifest image), pushed."""
    argv = [docker, "buildx", "build", "--progress=rawjson", "--push", "--provenance=false", "--sbom=false",
            "--platform", request.platform, "--file", str(request.context / request.dockerfile),
            "--tag", request.image, "--metadata-file", str(metadata)]
    for key, value in request.build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    for ref in request.cache_from:
        argv += ["--cache-from", f"type=registry,ref={ref}"]
    cache_to = "type=inline"
    if request.cache_to:
        cache_to = f"type=registry,ref={request.cache_to},{REGISTRY_CACHE_OPTIONS}"
    return [*argv, "--cache-to", cache_to, str(request.context)]


STOP_SECONDS = 2.0


def build(request: BuildRequest, builder: Builder, env: Mapping[str, str],
          log: Callable[[str], None]) -> BuildReport:
    """Build and push ``request.image`` with buildx; the report says what was reused and pushed."""
    docker = shutil.which("docker", path=env.get("PATH")) or "docker"
    progress = BuildProgress(log)
    with tempfile.TemporaryDirectory(prefix="abca-buildx-") as tmp:
        metadata = Path(tmp) / "metadata.json"
        argv = build_command(docker, request, metadata)
        with subprocess.Popen(argv, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, errors="replace") as process:
            assert process.stderr is not None
            try:
                for line in process.stderr:
                    progress.feed(line)
            except BaseException:  # a cancel or --timeout (abca_deploy.interrupts): stop buildx now
                _stop(process)
                raise
        if process.returncode != 0:
            msg = f"docker buildx build failed: {progress.failure()}"
            raise OperationFailed(msg, title="Build failed")
        result = json.loads(metadata.read_text(encoding="utf-8"))
    return BuildReport(
        backend=f"BuildKit (buildx, {builder.driver} driver)",
        digest=str(result.get("containerimage.digest", "")),
        steps=progress.steps,
        cached_steps=progress.cached_steps,
        cache_from=progress.cache_imports,
        cache_to=request.cache_to or "",
        layers_pushed=progress.layers_pushed,
        layers_present=progress.layers_present,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    """End buildx at once: SIGTERM (it cancels the build and the push), then a kill. Popen's own exit would
    otherwise wait for the whole build to finish before a cancelled publish could roll back."""
    process.terminate()
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
