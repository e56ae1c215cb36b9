"""actions/onboard-repo/action.yml is a thin shim: every input is a settings field and reaches it via env."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from abca_deploy.repos.commands import OFFBOARD, ONBOARD, SYNC, UPDATE
from abca_deploy.settings import env_name

ACTION = Path(__file__).resolve().parents[2] / "actions" / "onboard-repo" / "action.yml"


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return loaded


def run_step() -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in action()["runs"]["steps"] if s.get("id") == "run")
    return step


def settings_fields() -> set[str]:
    return {name for command in (ONBOARD, UPDATE, OFFBOARD, SYNC) for name in command.settings.model_fields}


def test_every_input_is_a_settings_field_and_back() -> None:
    inputs = set(action()["inputs"]) - {"operation"}
    assert {name.replace("-", "_") for name in inputs} == settings_fields()


def test_every_input_reaches_the_cli_only_through_its_abca_variable() -> None:
    env = run_step()["env"]
    for name in action()["inputs"]:
        assert env[env_name(name.replace("-", "_"))] == f"${{{{ inputs.{name} }}}}"
    abca = {key for key in env if key.startswith("ABCA_")}
    assert abca == {env_name(name.replace("-", "_")) for name in action()["inputs"]}


def test_no_expression_is_expanded_inside_a_run_script() -> None:
    for step in action()["runs"]["steps"]:
        assert "${{" not in step.get("run", "")


def test_setup_uv_is_pinned_by_sha_and_cached_on_this_repos_lockfile() -> None:
    steps = action()["runs"]["steps"]
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("astral-sh/setup-uv@"))
    assert re.fullmatch(r"astral-sh/setup-uv@[0-9a-f]{40}", setup["uses"])
    assert re.search(re.escape(setup["uses"]) + r" # v\d+\.\d+\.\d+$", ACTION.read_text(), re.MULTILINE)
    assert setup["with"]["enable-cache"] is True
    lock_step = next(s for s in steps if s.get("id") == "paths")
    assert setup["with"]["cache-dependency-glob"] == "${{ steps.paths.outputs.lock }}"
    assert '"$GITHUB_ACTION_PATH/../.." && pwd)/uv.lock' in lock_step["run"]


def test_the_command_is_the_one_a_person_would_run() -> None:
    script = run_step()["run"]
    assert 'exec "$GITHUB_ACTION_PATH/../../.venv/bin/abca-deploy" repo "$ABCA_OPERATION"' in script
    install = next(s for s in action()["runs"]["steps"] if s.get("name") == "Install abca-deploy")
    assert install["run"] == 'uv sync --frozen --no-dev --quiet --project "$GITHUB_ACTION_PATH/../.."'
    assert install["env"]["UV_PROJECT_ENVIRONMENT"] == "${{ github.action_path }}/../../.venv"
    assert "onboard|update|offboard|sync)" in script


def test_outputs_and_branding() -> None:
    doc = action()
    assert {k: v["value"] for k, v in doc["outputs"].items()} == {
        name: f"${{{{ steps.run.outputs.{name} }}}}" for name in ("repo", "status", "changed")}
    assert doc["runs"]["using"] == "composite"
    assert set(doc["branding"]) == {"icon", "color"}
