"""Each action's README.md is generated from its action.yml and must not go stale."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = sorted(ROOT.glob("actions/*/action.yml"))


def action_docs(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts/action-docs"), *argv], capture_output=True,
                          text=True, check=False, timeout=60)


def test_the_readmes_match_their_action_files() -> None:
    done = action_docs("--check")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("action", ACTIONS, ids=[a.parent.name for a in ACTIONS])
def test_every_input_and_output_is_in_the_tables(action: Path) -> None:
    spec = yaml.safe_load(action.read_text())
    readme = (action.parent / "README.md").read_text()
    for name in spec.get("inputs") or {}:
        assert f"| `{name}` | " in readme
    for name in spec.get("outputs") or {}:
        assert f"| `{name}` | " in readme
    assert readme.startswith(f"# {spec['name']}\n")


def test_a_changed_input_makes_the_check_fail_until_regenerated(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "actions", tmp_path / "actions")
    (tmp_path / "docs").mkdir()
    assert action_docs("--root", str(tmp_path)).returncode == 0  # no docs/ here: the link line differs
    action = tmp_path / "actions/onboard-repo/action.yml"
    action.write_text(action.read_text().replace("  max-repos:\n", "  max-repositories:\n", 1))
    done = action_docs("--root", str(tmp_path), "--check")
    assert done.returncode == 1
    assert "actions/onboard-repo/README.md is stale: run scripts/action-docs" in done.stderr
    assert action_docs("--root", str(tmp_path)).returncode == 0
    assert "| `max-repositories` | no |" in (tmp_path / "actions/onboard-repo/README.md").read_text()
    assert action_docs("--root", str(tmp_path), "--check").returncode == 0
