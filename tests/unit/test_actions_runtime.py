"""actions/{publish,rollback,resolve}-runtime: every input is a setting and back, every output is written,
and the step execs abca-deploy itself so that GitHub's cancel signals reach it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from abca_deploy.runtime.outputs import OUTPUT_KEYS
from abca_deploy.runtime.settings import PublishSettings, ResolveSettings, RollbackSettings
from abca_deploy.settings import CommandSettings, env_name

ROOT = Path(__file__).parents[2]
ACTIONS = {
    "publish-runtime": (PublishSettings, "publish", "runtime publish", set(OUTPUT_KEYS)),
    "rollback-runtime": (RollbackSettings, "rollback", "runtime rollback", {"action", "runtime-version"}),
    "resolve-runtime": (ResolveSettings, "resolve", "runtime resolve",
                        {"runtime-id", "runtime-arn", "concurrency-key"}),
}


def load(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "actions" / name / "action.yml").read_text()))


def public(model: type[CommandSettings]) -> set[str]:
    return {name for name, info in model.model_fields.items()
            if not (isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("sandbox_only"))}


def step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in action["runs"]["steps"] if s.get("id") == step_id)


@pytest.mark.parametrize("name", ACTIONS)
def test_inputs_are_exactly_the_public_settings_fields(name: str) -> None:
    model = ACTIONS[name][0]
    assert set(load(name)["inputs"]) == {field.replace("_", "-") for field in public(model)}


def test_sandbox_only_settings_stay_out_of_the_publish_action() -> None:
    assert set(PublishSettings.model_fields) - public(PublishSettings) == {
        "ecr_registry_endpoint", "default_build_args", "lease_ttl"}


@pytest.mark.parametrize("name", ACTIONS)
def test_each_input_reaches_its_field_through_env_only(name: str) -> None:
    model, step_id, _, _ = ACTIONS[name]
    action = load(name)
    env = step(action, step_id)["env"]
    for field in action["inputs"]:
        assert env[env_name(field.replace("-", "_"))] == f"${{{{ inputs.{field} }}}}"
    assert set(env) == {env_name(f) for f in public(model)}


@pytest.mark.parametrize("name", ACTIONS)
def test_input_defaults_match_the_settings_defaults(name: str) -> None:
    model = ACTIONS[name][0]
    for field, spec in load(name)["inputs"].items():
        if "default" in spec:
            default = model.model_fields[field.replace("-", "_")].default
            assert str(default).lower() == str(spec["default"]).lower(), field


@pytest.mark.parametrize("name", ACTIONS)
def test_outputs_are_declared_and_come_from_the_step(name: str) -> None:
    _, step_id, _, outputs = ACTIONS[name]
    action = load(name)
    assert set(action["outputs"]) == outputs
    for output, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.{step_id}.outputs.{output} }}}}"


@pytest.mark.parametrize("name", ACTIONS)
def test_the_step_execs_the_installed_console_script(name: str) -> None:
    """GitHub signals the step's entry process only; `exec` makes abca-deploy that process."""
    _, step_id, command, _ = ACTIONS[name]
    action = load(name)
    assert step(action, step_id)["run"].strip() == (
        f'exec "$GITHUB_ACTION_PATH/../../.venv/bin/abca-deploy" {command}')
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install abca-deploy")
    assert install["env"]["UV_PROJECT_ENVIRONMENT"] == "${{ github.action_path }}/../../.venv"
    assert "${{" not in install["run"]


@pytest.mark.parametrize("name", ACTIONS)
def test_setup_uv_is_pinned_by_commit_sha(name: str) -> None:
    uses = next(s["uses"] for s in load(name)["runs"]["steps"] if "uses" in s)
    assert re.fullmatch(r"astral-sh/setup-uv@[0-9a-f]{40}", uses)
