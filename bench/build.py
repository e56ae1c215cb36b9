"""Print build figures for an ABCA-shaped image: what the registry cache buys on a fresh CI runner.

Every engine here is a second Docker Engine started for the purpose (its own data root, socket and bridge;
stopped by its pid afterwards), so the machine's own engine and its caches are never used or touched. The
registry is a private distribution registry behind a byte-counting proxy on 127.0.0.1:6510-6511.

(a) an agent-only change built by our image step on an EMPTY engine (a fresh runner) vs the same kind of
    change on the WARM engine that built the previous image; goal: fresh - warm <= 1.2 x the time an empty
    engine takes to pull the reused layers, and bytes pushed <= the changed layers + 5%;
(b) the same fresh-runner change vs `docker buildx build --push` with the same cache flags run directly on
    another empty engine; goal: <= 1.10x;
(c) a cold build (empty engine, nothing in the registry) vs the warm one.

"Our image step" is `runtime.image.realize`, exactly what `runtime publish` runs in its "Build and push"
phase: content-tag check, BuildKit build and push, reading the pushed image back, the limit checks.

Run as root (it starts dockerd): uv run python bench/build.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import second_engine  # noqa: E402

from abca_deploy.aws.ecr import RegistryAuth  # noqa: E402
from abca_deploy.build.facts import read_image  # noqa: E402
from abca_deploy.build.registry import Registry  # noqa: E402
from abca_deploy.runtime.image import plan_image, realize  # noqa: E402
from abca_deploy.runtime.settings import PublishSettings  # noqa: E402
from abca_deploy.sandbox import registry as registry_mod  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

REGISTRY_PORT, PROXY_PORT = 6510, 6511
PROXY = f"127.0.0.1:{PROXY_PORT}"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
REPOSITORY = "bench/agent"
AUTH = RegistryAuth("AWS", "bench", ECR)
HOST_PLATFORM = "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

DOCKERFILE = """\
ARG BASE_IMAGE
# Stands in for ABCA's Go stage compiling gh: CPU time and a binary the final stage copies.
FROM ${BASE_IMAGE} AS gh
RUN sleep 8 && head -c 40000000 /dev/urandom > /gh
# Stands in for apt, Node.js, Claude Code and uv sync: slow (downloads) and a few hundred MB whose bytes
# differ on every real run, so a layer can only be reused from a cache, never rebuilt identical.
FROM ${BASE_IMAGE}
RUN sleep 20 && head -c 300000000 /dev/urandom > /opt/deps.bin
COPY --from=gh /gh /usr/local/bin/gh
COPY agent/src/ /app/src/
CMD ["python3", "/app/src/server.py"]
"""


class CountingProxy:
    """127.0.0.1:PROXY_PORT -> the registry, counting bytes sent up (pushes) and down (pulls)."""

    def __init__(self, target: int) -> None:
        self.up = self.down = 0
        self._lock = threading.Lock()
        self._target = target
        self._server = socket.create_server(("127.0.0.1", PROXY_PORT))
        threading.Thread(target=self._accept, daemon=True).start()

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.up, self.down

    def _accept(self) -> None:
        while True:
            client, _ = self._server.accept()
            upstream = socket.create_connection(("127.0.0.1", self._target))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
                with self._lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@contextmanager
def engine() -> Iterator[second_engine.SecondEngine]:
    """An empty Docker Engine, DOCKER_HOST pointing at it while in use."""
    started = second_engine.start()
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = started.host
    try:
        yield started
    finally:
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous
        started.stop()


def change(context: Path, label: str) -> None:
    """An agent-only change: agent/src is rewritten (4 MB of sources, as the whole directory is one layer)."""
    src = context / "agent/src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "message.txt").write_text(f"{label}\n", encoding="utf-8")
    (src / "vendored.bin").write_bytes(os.urandom(4_000_000))


def publish_image(context: Path, base: str, live: str | None) -> tuple[float, str, str]:
    """Our image step; its seconds, the pushed digest and the build line of the summary."""
    settings = PublishSettings(runtime_id="bench-AbCdEfGhIj", context=str(context), platform=HOST_PLATFORM,
                               build_args=[f"BASE_IMAGE={base}"], ecr_registry_endpoint=PROXY, tags=["bench"])
    start = time.perf_counter()
    plan = plan_image(settings, f"{ECR}/{REPOSITORY}", live_image=live, immutable=False)
    result = realize(plan, AUTH, immutable=False, log=lambda _line: None)
    return time.perf_counter() - start, result.digest, result.build_summary()


def direct_buildx(context: Path, base: str, live: str) -> float:
    """`docker buildx build --push` with the same cache flags, timed."""
    start = time.perf_counter()
    subprocess.run(["docker", "buildx", "build", "--push", "--provenance=false", "--sbom=false", "--quiet",
                    "--platform", HOST_PLATFORM, "--file", str(context / "agent/Dockerfile"),
                    "--build-arg", f"BASE_IMAGE={base}", "--cache-from", f"type=registry,ref={live}",
                    "--cache-to", "type=inline", "--tag", f"{PROXY}/{REPOSITORY}:direct", str(context)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def pull_seconds(ref: str) -> float:
    """`docker pull` of ``ref`` on the current (empty) engine, timed."""
    start = time.perf_counter()
    subprocess.run(["docker", "pull", "-q", ref], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def push_base(tmp: Path) -> str:
    """The sandbox's Python base image, pushed to the bench registry (an empty engine pulls it from there)."""
    import docker

    from abca_deploy.sandbox.baseimage import choose_base

    client = docker.from_env()
    local = choose_base(client)
    client.images.get(local).tag(f"{PROXY}/base/python", tag="bench")
    for event in client.images.push(f"{PROXY}/base/python", tag="bench", stream=True, decode=True):
        if "error" in event:
            sys.exit(f"pushing the base image failed: {event['error']}")
    client.images.remove(f"{PROXY}/base/python:bench")
    return f"{PROXY}/base/python:bench"


def changed_bytes(live: str, new: str) -> int:
    """Compressed bytes of the new image's blobs (layers and config) that the live image does not have."""
    registry = Registry(PROXY)
    before, after = read_image(registry, REPOSITORY, live), read_image(registry, REPOSITORY, new)
    old = {layer.digest for layer in before.layers}
    return sum(layer.size for layer in after.layers if layer.digest not in old) + after.config_size


def main() -> None:
    why_not = second_engine.available()
    if why_not:
        sys.exit(f"bench/build.py: {why_not}")
    with tempfile.TemporaryDirectory(prefix="abca-bench-build-") as tmp:
        state, context = Path(tmp) / "registry", Path(tmp) / "context"
        running = registry_mod.start(state, REGISTRY_PORT, instance="bench")
        proxy = CountingProxy(REGISTRY_PORT)
        try:
            (context / "agent").mkdir(parents=True)
            (context / "agent/Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
            base = push_base(Path(tmp))
            figures(context, base, proxy)
        finally:
            if running.pid:
                from abca_deploy.sandbox import process

                process.stop(running.pid, str(state / "registry.yml"), timeout=10)
            shutil.rmtree(state, ignore_errors=True)


def figures(context: Path, base: str, proxy: CountingProxy) -> None:
    with engine():
        change(context, "v0")
        cold, v0, cold_line = publish_image(context, base, None)
        live = f"{ECR}/{REPOSITORY}@{v0}"
        change(context, "warm change")
        warm, _, warm_line = publish_image(context, base, live)
    with engine():
        change(context, "fresh change")
        up0, down0 = proxy.snapshot()
        fresh, new, fresh_line = publish_image(context, base, live)
        up1, down1 = proxy.snapshot()
    with engine():
        pull = pull_seconds(f"{PROXY}/{REPOSITORY}@{v0}")
    with engine():
        change(context, "direct change")
        direct = direct_buildx(context, base, f"{PROXY}/{REPOSITORY}@{v0}")
    changed = changed_bytes(v0, new)
    pushed = up1 - up0
    print("ABCA-shaped image: base + 40 MB Go-stage binary + 300 MB dependency layer + 4 MB agent/src")
    print(f"cold  (empty engine, empty registry)   {cold:7.1f} s  {cold_line}")
    print(f"warm  (the engine that built it)        {warm:7.1f} s  {warm_line}")
    print(f"fresh (empty engine, registry cache)    {fresh:7.1f} s  {fresh_line}")
    print(f"pull of the reused layers, empty engine {pull:7.1f} s")
    print(f"docker buildx build --push, direct       {direct:7.1f} s (empty engine, same cache flags)")
    print(f"(a) fresh - warm = {fresh - warm:.1f} s; 1.2 x pull = {1.2 * pull:.1f} s -> "
          f"{'met' if fresh - warm <= 1.2 * pull else 'NOT met'}")
    print(f"    bytes pushed {pushed:,} (pulled {down1 - down0:,}); changed layers + config {changed:,} "
          f"-> {pushed / changed:.3f}x ({'met' if pushed <= 1.05 * changed else 'NOT met'}: <= 1.05x)")
    verdict = "met" if fresh <= 1.10 * direct else "NOT met"
    print(f"(b) fresh / direct buildx = {fresh / direct:.2f} ({verdict}: <= 1.10)")
    print(f"(c) cold / warm = {cold / warm:.1f}x ({cold:.1f} s vs {warm:.1f} s); "
          f"cold / fresh = {cold / fresh:.1f}x")


if __name__ == "__main__":
    main()
