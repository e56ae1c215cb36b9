"""actions/publish-runtime/action.yml: every input is a setting and back; every output is written."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from abca_deploy.runtime.commands import OUTPUT_KEYS
from abca_deploy.runtime.settings import PublishSettings
from abca_deploy.settings import env_name

ACTION = yaml.safe_load((Path(__file__).parents[2] / "actions/publish-runtime/action.yml").read_text())
STEP = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "publish")
PUBLIC = {name for name, info in PublishSettings.model_fields.items()
          if not (isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("sandbox_only"))}


def test_inputs_are_exactly_the_public_settings_fields() -> None:
    assert set(ACTION["inputs"]) == {name.replace("_", "-") for name in PUBLIC}
    assert {"ecr_registry_endpoint", "default_build_args"} == set(PublishSettings.model_fields) - PUBLIC


def test_each_input_reaches_its_field_through_env_only() -> None:
    env = STEP["env"]
    for name in ACTION["inputs"]:
        assert env[env_name(name.replace("-", "_"))] == f"${{{{ inputs.{name} }}}}"
    assert set(env) == {env_name(f) for f in PUBLIC}
    assert "${{" not in STEP["run"]


def test_input_defaults_match_the_settings_defaults() -> None:
    for name, spec in ACTION["inputs"].items():
        field = PublishSettings.model_fields[name.replace("-", "_")]
        if "default" in spec:
            default = field.default
            assert str(default).lower() == str(spec["default"]).lower(), name


def test_outputs_are_declared_and_come_from_the_step() -> None:
    assert set(ACTION["outputs"]) == set(OUTPUT_KEYS)
    for name, spec in ACTION["outputs"].items():
        assert spec["value"] == f"${{{{ steps.publish.outputs.{name} }}}}"


def test_setup_uv_is_pinned_by_commit_sha() -> None:
    uses = next(s["uses"] for s in ACTION["runs"]["steps"] if "uses" in s)
    assert re.fullmatch(r"astral-sh/setup-uv@[0-9a-f]{40}", uses)
