"""Who merges a reviewed repos.yaml: a maintainer, GitHub's merge queue or Mergify (ABCA merges with Mergify).

The push that runs `repo sync` is attributed to whoever merged. What each actor needs with
`required-permission` (the onboarding workflow's input): a maintainer holds `maintain`; the merge queue
(`github-merge-queue[bot]`) and Mergify (`mergify[bot]`) hold no repository role at all, so only `none`
lets their merges sync, and then the reviewed file on the protected branch is the authority.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.fake_github import FakeGitHub
    from tests.support.repo_stack import ActionsEnv, RepoStack

ACTORS = {"maintainer": "maria", "merge-queue": "github-merge-queue[bot]", "mergify": "mergify[bot]"}


@pytest.mark.parametrize(("actor", "required", "synced"), [
    ("maintainer", "admin", False), ("maintainer", "maintain", True), ("maintainer", "none", True),
    ("merge-queue", "maintain", False), ("merge-queue", "read", False), ("merge-queue", "none", True),
    ("mergify", "write", False), ("mergify", "none", True),
])
def test_who_may_merge_a_sync(repo_stack: RepoStack, repo_actions: ActionsEnv, fake_github: FakeGitHub,
                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path, actor: str, required: str,
                              synced: bool) -> None:
    fake_github.roles[("octo/platform", "maria")] = "maintain"  # the bots have no collaborator role
    monkeypatch.setenv("GITHUB_ACTOR", ACTORS[actor])
    repos = tmp_path / "repos.yaml"
    repos.write_text("repos:\n  octo/app: {}\n")
    run = repo_actions.run("repo", "sync", "--file", str(repos), "--required-permission", required)
    assert (run.code == 0) is synced, run.err
    assert [i["repo"]["S"] for i in repo_stack.items()] == (["octo/app"] if synced else [])
    if not synced:
        assert f"--required-permission: {ACTORS[actor]} has" in run.err
    if required == "none":
        assert not [r for r in fake_github.requests if "/collaborators/" in r.path]
