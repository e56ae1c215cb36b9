"""Print the repository API's figures through the local gateway: p50/p99 latency of GET one repo and of
PATCH, requests per second with 8 concurrent clients for 30 s, and the handler's cold import against
`python -c pass`.

moto and the gateway run as separate processes (as `sandbox up` runs them), on ports 6701 and 6702 unless
--moto-port / --api-port say otherwise; the gateway does not throttle (--rate 0). Figures are for this
machine, moto included: DynamoDB and Cognito answer in-process in moto, not over a network.

Run: uv run python bench/api.py [--seconds 30] [--clients 8] [--requests 300]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_PATH = "/v1/repos/bench%2Frepo"


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    sys.exit(f"{url} did not come up: {log.read_text()[-2000:]}")


def start(argv: list[str], health: str, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A server process, waited for until ``health`` answers."""
    process = subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    _wait(health, process, log)
    return process


def platform(moto: str) -> str:
    """Seed the ABCA-shaped stack and user pool; an admin's ID token."""
    import boto3

    from abca_deploy.aws.cognito import Cognito
    from abca_deploy.sandbox import cognito, platform_spec

    def client(service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    pool, _ = cognito.ensure_pool(client("cognito-idp"))
    template = cognito.with_api(
        {
            "Resources": {"RepoTable": platform_spec.repo_table_resource()},
            "Outputs": {"RepoTableName": {"Value": {"Ref": "RepoTable"}}},
        },
        pool,
        "http://127.0.0.1/v1/",
    )
    client("cloudformation").create_stack(StackName="backgroundagent-dev", TemplateBody=json.dumps(template))
    admin = cognito.BY_NAME["admin"]
    return Cognito(client("cognito-idp")).sign_in(pool.app_client_id, admin.username, admin.password).id_token


def request(
    conn: http.client.HTTPConnection, method: str, path: str, token: str, body: dict[str, Any] | None = None
) -> int:
    """One request on a kept-alive connection; the status."""
    payload = json.dumps(body).encode() if body is not None else None
    conn.request(
        method, path, body=payload, headers={"Authorization": token, "Content-Type": "application/json"}
    )
    answer = conn.getresponse()
    answer.read()
    return answer.status


def latency(port: int, token: str, count: int) -> dict[str, list[float]]:
    """Sequential GETs and PATCHes of one repository, in milliseconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: dict[str, list[float]] = {"GET": [], "PATCH": []}
    for index in range(count):
        for method, body in (("GET", None), ("PATCH", {"max_turns": 1 + index % 500})):
            started = time.perf_counter()
            status = request(conn, method, REPO_PATH, token, body)
            times[method].append((time.perf_counter() - started) * 1000)
            assert status == 200, status
    conn.close()
    return times


def throughput(port: int, token: str, clients: int, seconds: float) -> tuple[int, int]:
    """GETs of one repository by ``clients`` threads for ``seconds``: (answered 200, other)."""
    ok, other, lock = [0], [0], threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        good = bad = 0
        while time.monotonic() < stop:
            if request(conn, "GET", REPO_PATH, token) == 200:
                good += 1
            else:
                bad += 1
        conn.close()
        with lock:
            ok[0] += good
            other[0] += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ok[0], other[0]


def median_run(argv: list[str], runs: int) -> float:
    """Median wall time of ``argv``, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_call(moto: str, runs: int) -> float:
    """Median of: a fresh interpreter imports the handler and answers one GET (the Lambda's cold start)."""
    script = (
        "from abca_deploy.api.handler import handler; "
        "r = handler({'httpMethod': 'GET', 'resource': '/repos/{repo_id}', "
        "'pathParameters': {'repo_id': 'bench%2Frepo'}, 'requestContext': {'authorizer': {'userId': 'u'}}}); "
        "assert r['statusCode'] == 200, r"
    )
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True, env=env, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=300, help="sequential GETs and PATCHes for latency")
    parser.add_argument("--moto-port", type=int, default=6701)
    parser.add_argument("--api-port", type=int, default=6702)
    parser.add_argument("--runs", type=int, default=15, help="interpreter starts per cold-start figure")
    args = parser.parse_args()
    moto = f"http://127.0.0.1:{args.moto_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    with tempfile.TemporaryDirectory(prefix="abca-bench-api-") as tmp:
        servers = [
            start(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(args.moto_port)],
                f"{moto}/moto-api/data.json",
                Path(tmp) / "moto.log",
                env,
            )
        ]
        try:
            token = platform(moto)
            servers.append(
                start(
                    [
                        sys.executable,
                        "-m",
                        "abca_deploy.sandbox.gateway",
                        "--port",
                        str(args.api_port),
                        "--moto",
                        moto,
                        "--rate",
                        "0",
                    ],
                    f"http://127.0.0.1:{args.api_port}/_sandbox/health",
                    Path(tmp) / "api.log",
                    env,
                )
            )
            conn = http.client.HTTPConnection("127.0.0.1", args.api_port, timeout=60)
            assert request(conn, "POST", "/v1/repos", token, {"repo": "bench/repo"}) == 201
            conn.close()
            report(args, token, moto)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)


def report(args: argparse.Namespace, token: str, moto: str) -> None:
    """Measure and print."""
    times = latency(args.api_port, token, args.requests)
    for method, values in times.items():
        cuts = statistics.quantiles(values, n=100)
        print(f"{method:<5} one repo      p50 {cuts[49]:6.1f} ms   p99 {cuts[98]:6.1f} ms   "
              f"({len(values)} sequential)")
    ok, other = throughput(args.api_port, token, args.clients, args.seconds)
    print(f"GET throughput     {ok / args.seconds:6.1f} requests/s ({args.clients} clients, "
          f"{args.seconds:.0f} s, {ok} answered 200, {other} other)")
    base = median_run([sys.executable, "-c", "pass"], args.runs)
    handler = median_run([sys.executable, "-c", "import abca_deploy.api.handler"], args.runs)
    cold = first_call(moto, max(3, args.runs // 3))
    print(f"python -c pass              {base * 1000:7.1f} ms (median of {args.runs})")
    print(f"import the handler          {handler * 1000:7.1f} ms = {handler / base:4.1f}x (goal: at most 5x)")
    print(f"import + first GET answered {cold * 1000:7.1f} ms (a Lambda cold start's Python part)")


if __name__ == "__main__":
    main()
