"""The example and the reusable workflows, as an ABCA repository adopts them: each rule a user relies on.

The breakages these guard against, found by copying examples/workflows/abca-deploy.yml onto upstream ABCA:
`npm ci` with no cdk/package-lock.json, a first deploy refused by drift, one image parameter shared by every
stack, a private abca-deploy copy unreadable, merges by a maintainer/merge queue/Mergify refused, no manual
run and no shared concurrency group, and an undocumented runner.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tests.unit.test_workflows import ROOT, call_problems, load, steps_of

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLE = ROOT / "examples/workflows/abca-deploy.yml"
PLAN_EXAMPLE = ROOT / "examples/workflows/abca-plan.yml"
INFRA = ROOT / ".github/workflows/deploy-infra.yml"
PLAN = ROOT / ".github/workflows/plan.yml"
ONBOARD = ROOT / ".github/workflows/onboard-repo.yml"
CHANGES = ROOT / ".github/workflows/changes.yml"
RECORD = ROOT / ".github/workflows/record.yml"
INSTALL = ROOT / "scripts/install-cdk-app"
DOCS = ROOT / "docs/workflows.md"


def jobs(path: Path) -> dict[str, Any]:
    return dict(load(path)["jobs"])


def triggers(path: Path) -> dict[str, Any]:
    on = load(path)[True]
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str) else on)}


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps") or [])


# -- the example and the reusable workflows agree on every input and secret name --
@pytest.mark.parametrize("example", [EXAMPLE, PLAN_EXAMPLE], ids=["abca-deploy", "abca-plan"])
def test_the_example_names_only_declared_inputs_and_secrets(example: Path) -> None:
    assert call_problems(example) == []
    called = {str(job["uses"]).split("/.github/workflows/")[1].split("@")[0]
              for job in jobs(example).values() if "uses" in job}
    deploys = {"changes.yml", "deploy-infra.yml", "deploy-runtime.yml", "onboard-repo.yml", "record.yml"}
    assert called == (deploys if example == EXAMPLE else {"plan.yml"})


def test_a_renamed_input_or_secret_is_caught(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("      aws-region: ${{ vars.AWS_REGION }}\n      stack-name",
                                       "      region: ${{ vars.AWS_REGION }}\n      stack-name", 1)
    text = text.replace("abca-deploy-token: ${{", "deploy-token: ${{", 1)
    copy = tmp_path / "abca-deploy.yml"
    copy.write_text(text)
    found = "\n".join(call_problems(copy))
    assert "unknown inputs ['region'], missing required ['aws-region']" in found
    assert "unknown secrets ['deploy-token']" in found


# -- 1. infra install with the lockfile's tool; 3. synthesize once --
def test_infra_synthesizes_once_and_deploys_that_assembly() -> None:
    synth, deploy = jobs(INFRA)["synth"], jobs(INFRA)["deploy"]
    assert re.search(r'"\$\{cdk\[@\]\}" synth .*--output "\$RUNNER_TEMP/cdk.out"', runs(synth))
    assert " synth " not in runs(deploy)
    assert '"${cdk[@]}" deploy --app "$RUNNER_TEMP/cdk.out"' in runs(deploy)
    assert '"${cdk[@]}" diff --app "$RUNNER_TEMP/cdk.out"' in runs(synth)
    upload = [s for s in synth["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    download = [s for s in deploy["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@")]
    assert upload[0]["with"]["name"] == "${{ steps.pack.outputs.name }}"
    assert download[0]["with"]["name"] == "${{ needs.synth.outputs.assembly }}"
    assert "sha256sum --check --strict" in runs(deploy)
    assert synth["outputs"]["assembly-sha256"] == "${{ steps.pack.outputs.sha256 }}"


def test_every_cdk_install_detects_the_lockfile() -> None:
    for path, job_ids in ((INFRA, ("synth", "deploy")), (PLAN, ("infra",))):
        for job_id in job_ids:
            steps = [s for s in jobs(path)[job_id]["steps"] if "install-cdk-app" in str(s.get("run", ""))]
            assert len(steps) == 1, (path.name, job_id)
            assert steps[0]["env"]["INSTALL_COMMAND"] == "${{ inputs.install-command }}"
    assert load(INFRA)[True]["workflow_call"]["inputs"]["install-command"]["default"] == ""
    assert "npm ci" not in INFRA.read_text().replace("`npm ci`", "")


# -- 1. one concurrency group per runtime, shared with deploy-runtime.yml's publish --
def test_the_deploy_shares_the_runtime_concurrency_key() -> None:
    synth, deploy = jobs(INFRA)["synth"], jobs(INFRA)["deploy"]
    assert deploy["concurrency"] == {"group": "abca-deploy-${{ needs.synth.outputs.concurrency-key }}",
                                     "cancel-in-progress": False}
    assert "abca-deploy runtime resolve" in runs(synth)
    assert synth["outputs"]["concurrency-key"] == "${{ steps.resolve.outputs.concurrency-key }}"


# -- 1. the example: manual runs, per-stack names, a brand-new stack reaches the publish --
def test_the_example_runs_by_hand_with_an_empty_base_meaning_everything() -> None:
    dispatch = triggers(EXAMPLE)["workflow_dispatch"]
    assert dispatch["inputs"]["base"]["default"] == ""
    assert jobs(EXAMPLE)["changes"]["with"]["base"] == "${{ inputs.base }}"
    (gate,) = [s for s in jobs(CHANGES)["changes"]["steps"] if s.get("id") == "changes"]
    assert gate["env"]["ABCA_BASE"] == (
        "${{ github.event_name == 'push' && github.event.before || inputs.base }}")
    # records only gate pushes: a manual run with an empty base deploys everything
    assert gate["env"]["ABCA_STACK_NAME"] == (
        "${{ github.event_name == 'push' && steps.stack.outputs.stack-name || '' }}")
    # the gate holds no AWS credentials, in the example and in the workflow it calls
    assert jobs(EXAMPLE)["changes"]["permissions"] == {"contents": "read", "deployments": "read"}
    assert jobs(CHANGES)["changes"]["permissions"] == {"contents": "read", "deployments": "read"}


def test_the_example_names_a_per_stack_image_parameter_and_the_ci_repository() -> None:
    example = jobs(EXAMPLE)
    (stack,) = [s for s in jobs(CHANGES)["changes"]["steps"] if s.get("id") == "stack"]
    assert 'echo "image-parameter=/abca/$STACK_NAME/runtime-image"' in stack["run"]
    assert example["changes"]["with"]["stack-name"] == "${{ vars.ABCA_STACK_NAME || 'backgroundagent-dev' }}"
    for job_id in ("infra", "runtime"):
        assert example[job_id]["with"]["image-parameter"] == "${{ needs.changes.outputs.image-parameter }}"
        assert example[job_id]["with"]["stack-name"] == "${{ needs.changes.outputs.stack-name }}"
    assert example["runtime"]["with"]["ecr-repository"] == "${{ vars.ABCA_ECR_REPOSITORY }}"
    plan = jobs(PLAN_EXAMPLE)["plan"]["with"]
    assert plan["image-parameter"] == (
        "/abca/${{ vars.ABCA_STACK_NAME || 'backgroundagent-dev' }}/runtime-image")
    for path in (EXAMPLE, PLAN_EXAMPLE, DOCS, ROOT / "README.md"):
        assert "/abca/runtime-image" not in path.read_text(), path.name


def test_a_new_stack_reaches_the_runtime_publish() -> None:
    """Infra first (it creates the stack), then the runtime; never after a failed or cancelled infra job."""
    runtime = jobs(EXAMPLE)["runtime"]
    assert runtime["needs"] == ["changes", "infra"]
    assert runtime["if"] == ("${{ !cancelled() && needs.changes.outputs.runtime == 'true' && "
                             "(needs.infra.result == 'success' || needs.infra.result == 'skipped') }}")
    drift = [s for s in jobs(INFRA)["deploy"]["steps"] if "abca-deploy drift" in str(s.get("run", ""))]
    assert drift[0]["env"]["ABCA_IMAGE_PARAMETER"] == "${{ inputs.image-parameter }}"


def test_every_abca_deploy_checkout_takes_a_token() -> None:
    for path in (CHANGES, RECORD, INFRA, PLAN):
        checkouts = [s for _, s in steps_of(path) if str(s.get("uses", "")).startswith("actions/checkout@")
                     and "abca-deploy" in str((s.get("with") or {}).get("path", ""))]
        assert checkouts, path.name
        for step in checkouts:
            token = step["with"]["token"]
            assert token in ("${{ secrets.ABCA_DEPLOY_TOKEN || github.token }}",
                             "${{ secrets.abca-deploy-token || github.token }}"), (path.name, step["name"])
    for path in (CHANGES, RECORD, INFRA, PLAN):
        assert load(path)[True]["workflow_call"]["secrets"]["abca-deploy-token"]["required"] is False
    for job_id in ("changes", "infra", "record"):
        assert jobs(EXAMPLE)[job_id]["secrets"] == {"abca-deploy-token": "${{ secrets.ABCA_DEPLOY_TOKEN }}"}
    assert jobs(PLAN_EXAMPLE)["plan"]["secrets"] == {"abca-deploy-token": "${{ secrets.ABCA_DEPLOY_TOKEN }}"}


def test_the_onboarding_workflow_exposes_the_guardrails() -> None:
    declared = load(ONBOARD)[True]["workflow_call"]["inputs"]
    assert {"required-permission", "allowed-owners", "max-repos"} <= set(declared)
    for job_id in ("repo", "sync"):
        (action,) = [s for s in jobs(ONBOARD)[job_id]["steps"] if s.get("uses") == "$/actions/onboard-repo"]
        assert {"required-permission", "allowed-owners", "max-repos"} <= set(action["with"])
    config = jobs(EXAMPLE)["config"]["with"]
    assert config["required-permission"] == "none"  # a maintainer, the merge queue or Mergify merged it
    assert config["allowed-owners"] == "${{ vars.ABCA_ALLOWED_OWNERS }}"


def test_the_runner_input_is_documented_with_its_fallback() -> None:
    for path in (INFRA, ROOT / ".github/workflows/deploy-runtime.yml"):
        assert load(path)[True]["workflow_call"]["inputs"]["runner"]["default"] == "ubuntu-24.04-arm"
    assert jobs(EXAMPLE)["infra"]["with"]["runner"] == "${{ vars.ABCA_RUNNER || 'ubuntu-24.04-arm' }}"
    (qemu,) = [s for s in jobs(INFRA)["deploy"]["steps"] if "qemu-user-static" in str(s.get("run", ""))]
    assert qemu["if"] == "runner.arch == 'X64'"
    docs = DOCS.read_text()
    for fact in ("`ubuntu-24.04-arm`", "QEMU", "ABCA_RUNNER", "private and\ninternal repositories"):
        assert fact in docs


# -- 4. each successful deploy is recorded; the gate reads the records with the job's token --
def test_the_example_records_each_successful_deploy() -> None:
    record = jobs(EXAMPLE)["record"]
    assert record["permissions"] == {"contents": "read", "deployments": "write"}
    assert set(record["needs"]) == {"changes", "infra", "runtime", "config"}
    assert record["with"] == {"stack-name": "${{ needs.changes.outputs.stack-name }}",
                              "deployed": "${{ toJSON(needs) }}"}
    steps = jobs(RECORD)["record"]["steps"]
    assert jobs(RECORD)["record"]["permissions"] == {"contents": "read", "deployments": "write"}
    for lifecycle in ("infra", "runtime", "config"):
        (step,) = [s for s in steps if f"abca-deploy record {lifecycle}" in str(s.get("run", ""))]
        assert step["if"] == f"fromJSON(inputs.deployed).{lifecycle}.result == 'success'"
        assert step["env"]["ABCA_SHA"] == "${{ github.sha }}"
        payload = f"toJSON(fromJSON(inputs.deployed).{lifecycle}.outputs)"
        assert step["env"]["ABCA_PAYLOAD"] == f"${{{{ {payload} }}}}"
    assert "done" not in record["needs"]
    assert "record" in jobs(EXAMPLE)["done"]["needs"]


# -- 2. no required-check deadlock --
def test_the_plan_can_be_a_required_check() -> None:
    assert set(triggers(PLAN_EXAMPLE)) == {"pull_request", "merge_group"}
    assert set(triggers(PLAN)) == {"workflow_call"}
    report = jobs(PLAN)["plan"]
    assert report["if"] == "always()"
    assert set(report["needs"]) == set(jobs(PLAN)) - {"plan"}
    assert "abca-deploy pr-comment" in runs(report)
    assert report["permissions"] == {"contents": "read", "pull-requests": "write"}
    for job_id in ("runtime", "config", "infra"):
        assert jobs(PLAN)[job_id]["if"].endswith("&& needs.changes.outputs.aws == 'true'")
    (gate,) = [s for s in jobs(PLAN)["changes"]["steps"] if s.get("id") == "range"]
    assert '[[ "$PR_REPOSITORY" == "$REPOSITORY" ]]' in gate["run"]  # forks: no OIDC, so no AWS plans
    assert "abca-deploy runtime publish" in runs(jobs(PLAN)["runtime"])
    assert jobs(PLAN)["runtime"]["steps"][-2]["env"]["ABCA_DRY_RUN"] == "true"
    assert jobs(PLAN)["config"]["steps"][-2]["env"]["ABCA_DRY_RUN"] == "true"


def test_no_push_only_workflow_is_advised_as_a_required_check() -> None:
    for path in (EXAMPLE, PLAN_EXAMPLE, *ROOT.glob(".github/workflows/*.yml")):
        on = triggers(path)
        if "push" in on and "pull_request" not in on and "merge_group" not in on:
            assert "required check" not in path.read_text().replace("never a required check", ""), path.name
    for doc in (DOCS, ROOT / "README.md"):
        text = doc.read_text()
        sentences = [s for s in re.split(r"(?<=[.!?:])\s+", text)
                     if re.search(r"\brequired\b(?!-)", s) and re.search(r"\bchecks?\b", s)]
        assert sentences, doc.name
        for sentence in sentences:
            advice = re.search(r"\b(make|mark|set|require)\b[^.]*\brequired\b[^.]*\bcheck", sentence, re.I)
            if advice:
                assert "abca-deploy / plan" in sentence, sentence
            else:
                assert "abca-deploy / plan" in sentence or re.search(r"\b(never|not)\b", sentence), sentence


# -- scripts/install-cdk-app, on fixture layouts with fake package managers --
FAKE_TOOL = """#!/usr/bin/env bash
echo "$(basename "$0") $* @ $PWD" >> "$INSTALL_LOG"
mkdir -p node_modules/.bin && printf '#!/bin/sh\\n' > node_modules/.bin/cdk && chmod +x node_modules/.bin/cdk
"""


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("yarn", "npm", "pnpm", "bun", "corepack"):
        (bin_dir / name).write_text(FAKE_TOOL)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("INSTALL_LOG", str(tmp_path / "log"))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    return tmp_path


def install(tools: Path, files: dict[str, str], command: str = "") -> tuple[int, str, str]:
    repo = tools / "repo"
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(content)
    (repo / "cdk").mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(INSTALL), str(repo), "cdk", command], capture_output=True, text=True,
                          check=False, cwd=tools)
    log = (tools / "log").read_text() if (tools / "log").exists() else ""
    return done.returncode, done.stdout + done.stderr, log.replace(str(repo), "<repo>")


def test_abca_installs_with_yarn_at_the_root(tools: Path) -> None:
    code, out, log = install(tools, {"package.json": '{"workspaces": ["cdk", "cli", "docs"]}',
                                     "yarn.lock": "# yarn lockfile v1\n", "cdk/package.json": "{}"})
    assert code == 0, out
    assert log == "yarn install --frozen-lockfile @ <repo>\n"
    assert f"cdk={tools}/repo/node_modules/.bin/cdk" in out


@pytest.mark.parametrize(("files", "expected"), [
    ({"yarn.lock": "", ".yarnrc.yml": "nodeLinker: node-modules\n"}, "yarn install --immutable @ <repo>"),
    ({"cdk/package-lock.json": "{}", "package.json": "{}"}, "npm ci @ <repo>/cdk"),
    ({"pnpm-lock.yaml": ""}, "pnpm install --frozen-lockfile @ <repo>"),
    ({"cdk/bun.lock": ""}, "bun install --frozen-lockfile @ <repo>/cdk"),
])
def test_the_lockfile_names_the_tool(tools: Path, files: dict[str, str], expected: str) -> None:
    code, out, log = install(tools, files)
    assert code == 0, out
    assert log.splitlines()[-1] == expected


def test_a_package_manager_pin_enables_corepack(tools: Path) -> None:
    code, _, log = install(tools, {"yarn.lock": "", "package.json": '{"packageManager": "yarn@1.22.22"}'})
    assert code == 0
    assert log.splitlines() == [f"corepack enable @ {tools}", "yarn install --frozen-lockfile @ <repo>"]


def test_an_explicit_command_runs_in_the_cdk_directory(tools: Path) -> None:
    code, _, log = install(tools, {"yarn.lock": ""}, "npm install --no-audit")
    assert code == 0
    assert log == "npm install --no-audit @ <repo>/cdk\n"


def test_no_lockfile_is_a_clear_error(tools: Path) -> None:
    code, out, log = install(tools, {"cdk/package.json": "{}"})
    assert code == 1
    assert "::error title=No lockfile::" in out
    assert log == ""


def test_the_docs_example_is_the_example() -> None:
    """docs/workflows.md quotes no stale job layout: every job id it names exists in the example."""
    text = DOCS.read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"^  ([a-z-]+):", block, flags=re.MULTILINE))
    assert named <= set(jobs(EXAMPLE)) | set(jobs(PLAN_EXAMPLE)), named - set(jobs(EXAMPLE))
    assert yaml.safe_load(block) is not None
