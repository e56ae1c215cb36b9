"""Time what keeping an integrated stack's runtime domain list costs `repo sync` and `repo onboard`.

An in-process moto server holds the stack and its table, an in-process emulator the DNS firewall (seeded as
`sandbox up --shape integrated` seeds it; an update reports UPDATING for 0.5 s, as the emulator always
does). Prints, for N repositories (default 500; every other one with egress domains): the first sync (rows
and list), a no-op re-sync, then one `repo onboard` of a new repository with a new domain (a row, one REPLACE
and the wait for COMPLETE) and a no-op re-run of it. Compare with bench/repo_sync.py (no domain list).
Nothing leaves 127.0.0.1; the credentials are fake.

Run: uv run python bench/repo_egress.py [N]
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
from typing import Any

from repo_sync import repos_yaml, start_platform  # bench/repo_sync.py: the same repos and stack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.standin import NullRunner  # noqa: E402  the emulator runs no container here


def integrate(stack: str) -> tuple[Any, str]:
    """Start the emulator, seed the integrated firewall, add RuntimeDomainListId to the stack's outputs."""
    import boto3

    from abca_deploy import abca_stack
    from abca_deploy.sandbox import firewall_seed
    from abca_deploy.sandbox.emulator.server import EmulatorServer

    logging.getLogger("abca_deploy.sandbox.emulator").setLevel(logging.ERROR)
    emulator = EmulatorServer("127.0.0.1:1", runner=NullRunner())
    emulator.start()
    os.environ["AWS_ENDPOINT_URL_ROUTE53RESOLVER"] = emulator.url
    list_id = firewall_seed.seed(boto3.client("route53resolver"), integrated=True).runtime_list_id
    assert list_id is not None
    cfn = boto3.client("cloudformation")
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    template["Outputs"][abca_stack.DOMAIN_LIST_OUTPUT] = {"Value": list_id}
    cfn.update_stack(StackName=stack, TemplateBody=json.dumps(template))
    return emulator, list_id


def timed(*argv: str) -> tuple[float, dict[str, Any]]:
    """Run the CLI once; its wall time and its JSON result."""
    from abca_deploy.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--output", "json"])
    elapsed = time.perf_counter() - start
    if code != 0:
        sys.stderr.write(err.getvalue())
        msg = f"{' '.join(argv)} exited {code}"
        raise SystemExit(msg)
    result: dict[str, Any] = json.loads(out.getvalue())
    return elapsed, result


def egress(result: dict[str, Any]) -> str:
    """``+added -removed = total`` of the result's domain list change."""
    change = result["egress"]
    return f"+{len(change['added'])} -{len(change['removed'])} = {len(change['domains'])} domains"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    server, stack = start_platform()
    emulator, _ = integrate(stack)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "repos.yaml"
            path.write_text(repos_yaml(count))
            first, synced = timed("repo", "sync", "--file", str(path), "--stack-name", stack)
            again, resynced = timed("repo", "sync", "--file", str(path), "--stack-name", stack)
            onboard = ("repo", "onboard", "bench/new", "--egress-allowlist", "new.example.com",
                       "--stack-name", stack)
            one, onboarded = timed(*onboard)
            rerun, rerun_result = timed(*onboard)
    finally:
        emulator.stop()
        server.stop()  # type: ignore[attr-defined]
    print(f"repos                              {count}")
    print(f"sync, rows + domain list           {first:6.2f} s  {egress(synced)}")
    print(f"re-sync, no-op                     {again:6.2f} s  {egress(resynced)}")
    print(f"onboard 1 repo with a new domain   {one:6.2f} s  {egress(onboarded)}  (0.5 s of it: UPDATING)")
    print(f"onboard re-run, no-op              {rerun:6.2f} s  {egress(rerun_result)}")


if __name__ == "__main__":
    main()
