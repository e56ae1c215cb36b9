"""The change gate's default verdicts on real upstream ABCA commits, read from a local mirror when one exists.

The fixture-based tests in test_changes.py cover every rule from a clean clone; this file checks the same
defaults against ABCA's own history (its real Dockerfile, .dockerignore and layout at each commit) and is
skipped where no mirror is present. Set ABCA_UPSTREAM_MIRROR to point at another clone.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from abca_deploy.cli import main

MIRROR = Path(os.environ.get("ABCA_UPSTREAM_MIRROR",
                             "/work/.mirror/aws-samples+sample-autonomous-cloud-coding-agents/repo"))
NONE = {"runtime": False, "infra": False, "config": False}
UPSTREAM = {
    "6edfe87b": NONE | {"runtime": True, "infra": True},  # chore(deps): root yarn.lock + agent/uv.lock
    "e076f8b6": NONE | {"runtime": True, "infra": True},  # chore(deps): root yarn.lock + agent/uv.lock
    "d3974f7a": NONE,  # agent/tests only
    "5d6da09c": NONE,  # agent/run.sh only
    "fb1e007b": NONE,  # agent/README.md, cdk/test, docs
    "a94be94c": NONE | {"runtime": True},  # agent/Dockerfile + a cdk test
    "46263c09": NONE | {"infra": True},  # a Lambda handler, its test, a script
}


def _has(sha: str) -> bool:
    done = subprocess.run(["git", "-C", str(MIRROR), "cat-file", "-e", f"{sha}^{{commit}}"], check=False,
                          capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no upstream ABCA mirror at {MIRROR}")
@pytest.mark.parametrize(("sha", "expected"), list(UPSTREAM.items()), ids=list(UPSTREAM))
def test_upstream_commit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sha: str,
                         expected: dict[str, bool]) -> None:
    if not _has(sha):
        pytest.skip(f"{sha} is not in the mirror")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    code = main(["changes", "--repo", str(MIRROR), "--base", f"{sha}^", "--head", sha, "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out) == expected
