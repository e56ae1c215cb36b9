"""Print publish figures on the local sandbox (start it first: `abca-deploy sandbox up`).

(a) a no-op re-publish (goal: under 3 s);
(b) a changed publish against `docker buildx build --push` of the same context run directly, as a ratio of
    our time beyond the runtime's own READY wait (goal: overhead under 10%);
(c) the number of AgentCore API calls per publish.

Run: uv run python bench/publish.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "abca_deploy"]


def sandbox_env() -> dict[str, str]:
    """The environment `eval "$(abca-deploy sandbox env)"` would give."""
    done = subprocess.run([*CLI, "sandbox", "env", "--output", "json"], capture_output=True, text=True,
                          check=True)
    return {**os.environ, **json.loads(done.stdout)}


def publish(env: dict[str, str], context: Path) -> tuple[float, dict]:
    """Run a publish; its wall time and JSON document."""
    start = time.perf_counter()
    done = subprocess.run([*CLI, "runtime", "publish", "--stack-name", "backgroundagent-dev", "--context",
                           str(context), "--output", "json"],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"publish failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout)


def docker_direct(env: dict[str, str], context: Path) -> float:
    """`docker buildx build --push` of the same context to the same registry, with the cache flags a publish
    uses (the live image's inline cache), timed: the builder itself, without our wrapper."""
    registry = env["ABCA_ECR_REGISTRY_ENDPOINT"]
    ref = f"{registry}/abca/agent:direct-{uuid.uuid4().hex[:8]}"
    items = [item for item in env.get("ABCA_DEFAULT_BUILD_ARGS", "").splitlines() if item]
    args = [arg for item in items for arg in ("--build-arg", item)]
    start = time.perf_counter()
    subprocess.run(["docker", "buildx", "build", "--push", "--quiet", "--provenance=false", "--sbom=false",
                    "--platform", env.get("ABCA_PLATFORM", "linux/amd64"), "--cache-to", "type=inline",
                    "--cache-from", f"type=registry,ref={registry}/abca/agent:sandbox-seed",
                    "-f", str(context / "agent/Dockerfile"), "-t", ref, *args, str(context)],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def change(context: Path) -> None:
    (context / "agent/src/message.txt").write_text(f"bench {uuid.uuid4()}\n", encoding="utf-8")


def heavier(context: Path, mib: int) -> None:
    """Give the agent a payload layer of ``mib`` MiB (real agent images are hundreds of MiB)."""
    (context / "agent/src/payload.bin").write_bytes(os.urandom(mib << 20))


def phase(doc: dict, prefix: str) -> float:
    return sum(p["seconds"] for p in doc["phases"] if p["phase"].startswith(prefix))


def compare(env: dict[str, str], context: Path, label: str) -> dict:
    """(b) for one context: a changed publish against docker buildx build --push run directly."""
    change(context)
    direct = docker_direct(env, context)
    change(context)
    wall, doc = publish(env, context)
    ready = phase(doc, "Wait for version")
    ours = wall - ready
    print(f"(b) {label}: changed publish {wall:6.2f} s (status {doc['status']}); READY wait {ready:.2f} s, "
          f"smoke test {phase(doc, 'Smoke'):.2f} s")
    print(f"    docker buildx build --push direct {direct:6.2f} s; publish minus READY wait {ours:6.2f} s "
          f"-> ratio {ours / direct:4.2f} (overhead {100 * (ours / direct - 1):+.0f}%; goal: under +10%)")
    build = phase(doc, "Build and push")
    print(f"    of which our build + push {build:6.2f} s (ratio {build / direct:4.2f} to buildx direct); "
          f"the rest is process start, AWS calls and hashing: {ours - build:.2f} s")
    return doc


def main() -> None:
    env = sandbox_env()
    with tempfile.TemporaryDirectory(prefix="abca-bench-") as tmp:
        context = Path(tmp) / "examples"
        shutil.copytree(ROOT / "examples", context)
        change(context)
        first_wall, first = publish(env, context)
        noop_wall, noop = publish(env, context)
        assert noop["status"] == "unchanged", noop["status"]
        print(f"(a) no-op re-publish {noop_wall:6.2f} s (goal: under 3 s; status {noop['status']})")
        changed = compare(env, context, "example agent (a few KiB of code)")
        for mib in (256, 1024):
            heavier(context, mib)
            compare(env, context, f"example agent + a {mib} MiB layer")
    print(f"(c) AgentCore API calls: {changed['agentcore_calls']} per changed publish, "
          f"{noop['agentcore_calls']} per no-op (first: {first['agentcore_calls']}, {first_wall:.1f} s)")


if __name__ == "__main__":
    main()
