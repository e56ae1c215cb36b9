"""`abca-deploy pr-comment`: one summary and one pull request comment, updated in place (fake GitHub API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from abca_deploy.cli import main
from abca_deploy.gates.comment import compose

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.fake_github import FakeGitHub

PLATFORM = "octo/platform"


@pytest.fixture
def actions(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    fake_github.add_repo(PLATFORM)
    fake_github.add_token("ghs_pr", "github-actions[bot]", scopes=None, access={PLATFORM: "write"})
    fake_github.add_token("ghs_fork", "github-actions[bot]", scopes=None, access={PLATFORM: "read"})
    fake_github.add_token("ghp_human", "alice", access={PLATFORM: "write"})
    summary = tmp_path / "summary"
    for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT":
                       str(tmp_path / "output"), "GITHUB_REPOSITORY": PLATFORM, "GITHUB_TOKEN": "ghs_pr",
                       "GITHUB_API_URL": fake_github.url, "GITHUB_SERVER_URL": "https://github.com",
                       "GITHUB_RUN_ID": "7", "GITHUB_SHA": "f" * 40}.items():
        monkeypatch.setenv(key, value)
    return summary


def section(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def comment(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["pr-comment", *argv])
    return code, capsys.readouterr().err


def test_one_comment_updated_in_place(capsys: pytest.CaptureFixture[str], fake_github: FakeGitHub,
                                      actions: Path, tmp_path: Path) -> None:
    gate = section(tmp_path, "1-gate.md", "### Changed lifecycles\n\nruntime: yes")
    assert comment(capsys, "--pr-number", "12", "--body-files", gate, "--body-files",
                   str(tmp_path / "missing.md"))[0] == 0
    diff = section(tmp_path, "3-infra.md", "### cdk diff\n\n```diff\n+ Resource\n```")
    assert comment(capsys, "--pr-number", "12", "--body-files", gate, "--body-files", diff)[0] == 0
    (only,) = fake_github.comments[(PLATFORM, 12)]
    assert only["body"].startswith("<!-- abca-deploy-plan -->\n## abca-deploy plan\n\n### Changed lifecycles")
    assert "+ Resource" in only["body"]
    assert "Run: https://github.com/octo/platform/actions/runs/7 · commit ffffffffffff" in only["body"]
    assert [r.method for r in fake_github.requests] == ["GET", "POST", "GET", "PATCH"]
    assert "+ Resource" in actions.read_text()


def test_a_quoted_marker_in_a_human_comment_is_left_alone(capsys: pytest.CaptureFixture[str],
                                                          fake_github: FakeGitHub, actions: Path,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    gate = section(tmp_path, "1-gate.md", "v1")
    assert comment(capsys, "--pr-number", "3", "--body-files", gate)[0] == 0
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_human")
    assert comment(capsys, "--pr-number", "3", "--body-files", section(tmp_path, "q.md", "> quoting"),
                   "--marker", "other")[0] == 0
    fake_github.comments[(PLATFORM, 3)][-1]["body"] += "\n<!-- abca-deploy-plan -->"
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_pr")
    assert comment(capsys, "--pr-number", "3", "--body-files", section(tmp_path, "2.md", "v2"))[0] == 0
    bot, human = fake_github.comments[(PLATFORM, 3)]
    assert "v2" in bot["body"]
    assert "v2" not in human["body"]


def test_a_fork_pull_request_gets_the_summary_and_a_green_check(capsys: pytest.CaptureFixture[str],
                                                                fake_github: FakeGitHub, actions: Path,
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_fork")
    code, err = comment(capsys, "--pr-number", "5", "--body-files", section(tmp_path, "g.md", "plan"))
    assert code == 0
    assert "Plan comment not written" in err
    assert "Resource not accessible by integration" in err
    assert "plan" in actions.read_text()
    assert fake_github.comments.get((PLATFORM, 5), []) == []


def test_a_merge_queue_run_writes_only_the_summary(capsys: pytest.CaptureFixture[str],
                                                   fake_github: FakeGitHub, actions: Path,
                                                   tmp_path: Path) -> None:
    assert comment(capsys, "--body-files", section(tmp_path, "g.md", "queued plan"))[0] == 0
    assert "queued plan" in actions.read_text()
    assert fake_github.requests == []


def test_a_long_plan_is_cut_to_a_comment_with_its_fence_closed() -> None:
    body = compose("plan", ["### cdk diff\n\n```diff\n" + "+ x\n" * 40_000 + "```"], "m", "<sub>f</sub>")
    assert len(body) <= 65_536
    assert body.count("```") % 2 == 0
    assert body.endswith("<sub>f</sub>")
    assert "cut to fit a comment" in body


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--pr-number", "0"], "--pr-number: Input should be greater than or equal to 1"),
    (["--marker", "has space"], "--marker: must be 1-64 letters"),
])
def test_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    code, err = comment(capsys, "--body-files", "x.md", *argv)
    assert code == 2
    assert fragment in err
