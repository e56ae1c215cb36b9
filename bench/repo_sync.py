"""Time `abca-deploy repo sync` of N repositories (default 500) against an in-process moto server.

Prints the plan + apply time of the first sync (goal: under 10 s), the time of a no-op re-sync, and the
time of a sync that changes one field of every tenth repository. Nothing leaves 127.0.0.1; the
credentials are fake.

Run: uv run python bench/repo_sync.py [N]
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

MODELS = ["global.anthropic.claude-opus-4-8", "global.anthropic.claude-sonnet-4-6",
          "global.anthropic.claude-opus-5"]
CEDAR = ('forbid (principal, action == Agent::Action::"execute_bash", resource) '
         'when { context.command like "*git push --force*" };')


def repos_yaml(count: int, *, bump_every: int = 0) -> str:
    """A repos.yaml with ``count`` repositories using every kind of field."""
    repos: dict[str, dict[str, object]] = {}
    for i in range(count):
        fields: dict[str, object] = {"max_turns": 10 + i % 400, "model_id": MODELS[i % 3]}
        if bump_every and i % bump_every == 0:
            fields["max_turns"] = 5
        if i % 2:
            fields.update(max_budget_usd=round(1 + (i % 50) * 0.25, 2),
                          egress_allowlist=["pypi.org", f"*.o{i}.dev"])
        if i % 3 == 0:
            fields.update(cedar_policies=[CEDAR], skills=[f"registry://skill/acme/s{i % 7}@^1.{i % 5}.0"],
                          build_command="make build", poll_interval_ms=30000)
        repos[f"org{i % 9}/repo-{i:04d}"] = fields
    return yaml.safe_dump({"repos": repos}, sort_keys=False)


def start_platform() -> tuple[object, str]:
    """A moto server on 127.0.0.1 holding an ABCA-shaped stack; returns it and the stack name."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for key in [k for k in os.environ if k.startswith(("AWS_", "ABCA_", "GITHUB_"))]:
        del os.environ[key]
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://{host}:{port}",
                      AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    import boto3

    from abca_deploy.sandbox.platform_spec import repo_table_resource

    template = {
        "Resources": {"RepoTable": repo_table_resource()},
        "Outputs": {"RepoTableName": {"Value": {"Ref": "RepoTable"}},
                    "BedrockModelIds": {"Value": ",".join(m.removeprefix("global.") for m in MODELS)},
                    "BedrockGeoRegion": {"Value": "global"}},
    }
    boto3.client("cloudformation").create_stack(StackName="bench-stack", TemplateBody=json.dumps(template))
    return server, "bench-stack"


def timed_sync(path: Path, stack: str) -> tuple[float, dict[str, int]]:
    """Run the CLI's sync once; its wall time and the action counts it reported."""
    from abca_deploy.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["repo", "sync", "--file", str(path), "--stack-name", stack, "--output", "json"])
    elapsed = time.perf_counter() - start
    if code != 0:
        sys.stderr.write(err.getvalue())
        msg = f"sync exited {code}"
        raise SystemExit(msg)
    counts: dict[str, int] = json.loads(out.getvalue())["counts"]
    return elapsed, counts


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    server, stack = start_platform()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "repos.yaml"
            path.write_text(repos_yaml(count))
            first, first_counts = timed_sync(path, stack)
            again, again_counts = timed_sync(path, stack)
            path.write_text(repos_yaml(count, bump_every=10))
            some, some_counts = timed_sync(path, stack)
    finally:
        server.stop()  # type: ignore[attr-defined]
    print(f"repos                          {count}")
    print(f"sync, plan + apply (created)   {first:6.2f} s  {first_counts}  (goal: under 10 s)")
    print(f"re-sync, no-op                 {again:6.2f} s  {again_counts}")
    print(f"sync, 1 field of every 10th    {some:6.2f} s  {some_counts}")


if __name__ == "__main__":
    main()
