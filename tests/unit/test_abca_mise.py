"""ABCA's mise tasks (integrations/abca/agent-mise.toml), appended to an agent/mise.toml and run by the real
mise (scripts/mise) from an ABCA-shaped checkout, with a stand-in `uvx` that records what it was asked to run:
the pinned abca-deploy, the command CI runs, from the repository root, for ABCA's stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from tests.unit.test_workflows import ROOT

TASKS = ROOT / "integrations/abca/agent-mise.toml"
# ABCA itself, where this machine keeps a mirror of it (never committed here): UPSTREAM_MIRROR overrides it.
MIRROR = Path(os.environ.get("UPSTREAM_MIRROR",
                            "/work/.mirror/aws-samples+sample-autonomous-cloud-coding-agents/repo"))
# A stand-in for ABCA's two mise files at 2cee8800: a monorepo root, and agent/mise.toml's own [tasks] table.
STAND_IN_ROOT = 'experimental_monorepo_root = true\n\n[monorepo]\nconfig_roots = ["agent"]\n'
STAND_IN_AGENT = '[tasks]\ninstall = "uv sync --all-groups"\n\n[tasks.test]\nrun = "uv run pytest"\n'
RECORDER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["UVX_LOG"], "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(),
                          "env": {k: v for k, v in os.environ.items() if k.startswith("ABCA_")}}) + "\\n")
"""


def pinned_version() -> str:
    """The abca-deploy version the tasks install (scripts/release pins keeps it on the release)."""
    (version,) = set(re.findall(r"abca-deploy==([^}\"]+)", TASKS.read_text()))
    return version


def test_the_tasks_parse_and_are_the_three_the_rfc_names() -> None:
    tasks = tomllib.loads(TASKS.read_text())["tasks"]
    assert set(tasks) == {"publish-runtime", "runtime-status", "runtime-rollback"}
    for name, task in tasks.items():
        assert task["dir"] == "{{config_root}}/..", name  # the repository root, as ABCA's CDK asset builds
        pinned = f'uvx --from "${{ABCA_DEPLOY_FROM:-abca-deploy=={pinned_version()}}}" abca-deploy runtime '
        assert pinned in task["run"], name
        assert task["description"]


def abca_agent_mise() -> str | None:
    """ABCA's own agent/mise.toml at 2cee8800, read from the local mirror when this machine has it."""
    if not MIRROR.is_dir():
        return None
    done = subprocess.run(["git", "-C", str(MIRROR), "show", "2cee8800:agent/mise.toml"], capture_output=True,
                          text=True, check=False)
    return done.stdout if done.returncode == 0 else None


@pytest.mark.parametrize("agent", ["stand-in", "abca"])
def test_appending_the_tasks_keeps_agent_mise_toml_valid(agent: str) -> None:
    text = STAND_IN_AGENT if agent == "stand-in" else abca_agent_mise()
    if text is None:
        pytest.skip(f"no ABCA mirror at {MIRROR}")
    merged = tomllib.loads(text + "\n" + TASKS.read_text())  # a duplicate task or table would raise here
    assert {"publish-runtime", "runtime-status", "runtime-rollback"} <= set(merged["tasks"])
    assert set(tomllib.loads(text)["tasks"]) < set(merged["tasks"])


def mise() -> list[str]:
    if shutil.which("npm") is None and not os.environ.get("MISE"):
        pytest.skip("scripts/mise installs mise from the npm registry, and npm is not installed")
    done = subprocess.run([str(ROOT / "scripts/mise"), "--version"], capture_output=True, text=True,
                          check=False)
    if done.returncode == 127:
        pytest.skip(f"mise could not be installed: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return [str(ROOT / "scripts/mise")]


@pytest.fixture
def abca(tmp_path: Path) -> dict[str, Any]:
    """An ABCA-shaped checkout with the tasks appended, and the environment mise runs in."""
    checkout = tmp_path / "abca"
    (checkout / "agent").mkdir(parents=True)
    (checkout / "cdk").mkdir()
    (checkout / "mise.toml").write_text(STAND_IN_ROOT)
    (checkout / "agent/mise.toml").write_text(STAND_IN_AGENT + "\n" + TASKS.read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uvx").write_text(RECORDER)
    (bin_dir / "uvx").chmod(0o755)
    state = tmp_path / "mise"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ABCA_", "MISE_"))}
    env.update({"PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "UVX_LOG": str(tmp_path / "uvx.log"),
                "MISE_EXPERIMENTAL": "1", "MISE_OFFLINE": "1", "MISE_TRUSTED_CONFIG_PATHS": str(checkout),
                "MISE_DATA_DIR": str(state / "data"), "MISE_CACHE_DIR": str(state / "cache"),
                "MISE_CONFIG_DIR": str(state / "config"), "MISE_STATE_DIR": str(state / "state")})
    return {"checkout": checkout, "env": env, "log": tmp_path / "uvx.log"}


Calls = list[dict[str, Any]]


def run_task(abca: dict[str, Any], task: str, *args: str, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], Calls]:
    log: Path = abca["log"]
    log.unlink(missing_ok=True)
    argv = [*mise(), "run", "--skip-tools", f"//agent:{task}", *(["--", *args] if args else [])]
    done = subprocess.run(argv, cwd=cwd or abca["checkout"], env={**abca["env"], **(env or {})},
                          capture_output=True, text=True, check=False, timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, calls


def test_publish_runtime_runs_the_pinned_release_like_the_ci_job(abca: dict[str, Any]) -> None:
    done, calls = run_task(abca, "publish-runtime", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    (call,) = calls
    assert call["argv"] == ["--from", f"abca-deploy=={pinned_version()}", "abca-deploy", "runtime", "publish",
                            "--context", ".", "--dockerfile", "agent/Dockerfile", "--dry-run"]
    assert Path(call["cwd"]) == abca["checkout"]  # the repository root, with -f agent/Dockerfile
    assert call["env"] == {"ABCA_STACK_NAME": "backgroundagent-dev",
                           "ABCA_IMAGE_PARAMETER": "/abca/backgroundagent-dev/runtime-image"}


def test_the_stack_comes_from_the_environment_then_cdk_context_then_the_default(abca: dict[str, Any]) -> None:
    checkout: Path = abca["checkout"]
    context = {"stackName": "pr7-agentcore", "github:sha": "x"}  # as ABCA's build.yml writes it
    (checkout / "cdk/cdk.context.json").write_text(json.dumps(context))
    _, (status,) = run_task(abca, "runtime-status", cwd=checkout / "agent")  # from agent/ too
    assert status["argv"][2:] == ["abca-deploy", "runtime", "status"]
    assert status["env"] == {"ABCA_STACK_NAME": "pr7-agentcore"}
    _, (rollback,) = run_task(abca, "runtime-rollback", "--to-version", "3", env={"ABCA_STACK_NAME": "mine"})
    assert rollback["argv"][2:] == ["abca-deploy", "runtime", "rollback", "--to-version", "3"]
    assert rollback["env"] == {"ABCA_STACK_NAME": "mine"}
    _, (publish,) = run_task(abca, "publish-runtime", env={"ABCA_DEPLOY_FROM": "/src/abca-deploy"})
    assert publish["argv"][:2] == ["--from", "/src/abca-deploy"]
    assert publish["env"]["ABCA_IMAGE_PARAMETER"] == "/abca/pr7-agentcore/runtime-image"


def test_an_unreadable_cdk_context_stops_the_task_instead_of_guessing_the_stack(abca: dict[str, Any]) -> None:
    (abca["checkout"] / "cdk/cdk.context.json").write_text("{not json")
    done, calls = run_task(abca, "publish-runtime")
    assert done.returncode != 0
    assert calls == []  # nothing ran against a stack it could not name
    assert "JSONDecodeError" in done.stderr
