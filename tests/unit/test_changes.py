"""`abca-deploy changes` on real git histories built in temporary directories."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from abca_deploy.cli import main
from abca_deploy.gates.changes import decide
from abca_deploy.gates.paths import build_filters, parse_filter

if TYPE_CHECKING:
    from pathlib import Path

ZERO = "0" * 40


class Repo:
    """A scratch git repository; ``commit`` writes files (None deletes) and returns the new SHA."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        argv = ["git", "-C", str(self.path), *args]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config; a fixed identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A repository shaped like ABCA's: agent/, contracts/, cdk/, docs/ and repos.yaml."""
    repo = Repo(tmp_path / "repo")
    repo.commit({"agent/src/main.py": "v1", "agent/Dockerfile": "FROM x", "contracts/task.json": "{}",
                 "cdk/src/agent.ts": "v1", "docs/guide.md": "v1", "repos.yaml": "repos: {}\n",
                 "README.md": "readme"}, "initial")
    return repo


def run_changes(capsys: pytest.CaptureFixture[str], repo: Repo, base: str, head: str,
                *extra: str) -> tuple[dict[str, bool], str]:
    """The JSON result and stderr of a successful run."""
    argv = ["changes", "--repo", str(repo.path), "--base", base, "--head", head, "--output", "json", *extra]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result: dict[str, bool] = json.loads(captured.out)
    return result, captured.err


def gates(capsys: pytest.CaptureFixture[str], repo: Repo, base: str, head: str,
          *extra: str) -> dict[str, bool]:
    return run_changes(capsys, repo, base, head, *extra)[0]


@pytest.mark.parametrize(("files", "expected"), [
    ({"agent/src/main.py": "v2"}, {"runtime": True, "infra": False, "config": False}),
    ({"cdk/src/agent.ts": "v2"}, {"runtime": False, "infra": True, "config": False}),
    ({"docs/guide.md": "v2", "README.md": "new"}, {"runtime": False, "infra": False, "config": False}),
    ({"contracts/task.json": "{\"v\": 2}"}, {"runtime": True, "infra": False, "config": False}),
    ({"repos.yaml": "repos: {a/b: {}}\n"}, {"runtime": False, "infra": False, "config": True}),
    ({"docs/repos.yaml": "not the config"}, {"runtime": False, "infra": False, "config": False}),
    ({"agent/src/main.py": None}, {"runtime": True, "infra": False, "config": False}),
    ({"agent/src/main.py": "v2", "cdk/src/agent.ts": "v2", "repos.yaml": "x: 1\n"},
     {"runtime": True, "infra": True, "config": True}),
], ids=["agent-only", "cdk-only", "docs-only", "contracts", "repos-yaml", "nested-repos-yaml-is-not-config",
        "agent-file-deleted", "everything"])
def test_gates_follow_the_changed_paths(capsys: pytest.CaptureFixture[str], repo: Repo,
                                        files: dict[str, str | None], expected: dict[str, bool]) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit(files)
    assert gates(capsys, repo, base, head) == expected


def test_no_file_cap_400_unrelated_files_then_one_agent_file(capsys: pytest.CaptureFixture[str],
                                                             repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    # "aaa/" sorts before "agent/": the agent file is the diff's 401st path, past GitHub's 300-file window.
    files: dict[str, str | None] = {f"aaa/file{i:03}.txt": str(i) for i in range(400)}
    files["agent/src/main.py"] = "v2"
    head = repo.commit(files)
    assert gates(capsys, repo, base, head) == {"runtime": True, "infra": False, "config": False}


def test_a_rename_out_of_agent_counts_for_the_runtime(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("mv", "agent/src/main.py", "docs/main.py")
    head = repo.commit({})
    assert gates(capsys, repo, base, head)["runtime"] is True


def test_a_range_over_several_commits_is_one_tree_diff(capsys: pytest.CaptureFixture[str],
                                                       repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"cdk/src/agent.ts": "v2"})
    head = repo.commit({"cdk/src/agent.ts": "v1"})  # reverted: the trees of base and head agree
    assert gates(capsys, repo, base, head)["infra"] is False


@pytest.mark.parametrize("base", [ZERO, "0000000"], ids=["zero-sha-40", "zero-sha-short"])
def test_zero_base_means_everything_changed(capsys: pytest.CaptureFixture[str], repo: Repo,
                                            base: str) -> None:
    head = repo.commit({"docs/guide.md": "v2"})
    result, err = run_changes(capsys, repo, base, head)
    assert result == {"runtime": True, "infra": True, "config": True}
    assert "all zeros" in err


def test_unknown_base_means_everything_changed(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    head = repo.commit({"docs/guide.md": "v2"})
    unknown = "1234567890abcdef1234567890abcdef12345678"
    code = main(["changes", "--repo", str(repo.path), "--base", unknown, "--head", head, "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out) == {"runtime": True, "infra": True, "config": True}
    assert f"base commit {unknown} is not in this repository" in captured.err


def test_shallow_clone_missing_the_base(capsys: pytest.CaptureFixture[str], repo: Repo,
                                        tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit({"docs/guide.md": "v2"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "--quiet", "--depth=1", f"file://{repo.path}", str(clone)], check=True)
    code = main(["changes", "--repo", str(clone), "--base", base, "--head", head, "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out) == {"runtime": True, "infra": True, "config": True}
    assert "shallow" in captured.err
    assert "fetch-depth: 0" in captured.err


def test_missing_base_means_everything_changed(capsys: pytest.CaptureFixture[str], repo: Repo,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_BASE", "")  # what `${{ github.event.before }}` gives on workflow_dispatch
    code = main(["changes", "--repo", str(repo.path), "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out) == {"runtime": True, "infra": True, "config": True}
    assert "No base commit" in captured.err


def test_filters_replace_defaults_and_add_new_ones(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit({"agent/README.md": "docs", "docs/guide.md": "v2"})
    result = gates(capsys, repo, base, head, "--filters", "runtime=agent/**,!agent/**/*.md",
                   "--filters", "docs=docs/**,*.md")
    assert result == {"runtime": False, "infra": False, "config": False, "docs": True}


def test_filters_from_a_multiline_environment_variable(capsys: pytest.CaptureFixture[str], repo: Repo,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit({"cdk/bin/app.ts": "x"})
    monkeypatch.setenv("ABCA_FILTERS", "infra=cdk/src/**\napp=cdk/bin/**\n")
    assert gates(capsys, repo, base, head) == {"runtime": False, "infra": False, "config": False, "app": True}


def test_actions_outputs_and_summary(capsys: pytest.CaptureFixture[str], repo: Repo, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit({"agent/src/main.py": "v2"})
    output, summary = tmp_path / "output", tmp_path / "summary"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("ABCA_BASE", base)
    monkeypatch.setenv("ABCA_HEAD", head)
    monkeypatch.setenv("ABCA_REPO", str(repo.path))
    assert main(["changes"]) == 0
    lines = output.read_text().splitlines()
    values = {lines[i].split("<<")[0]: lines[i + 1] for i in range(0, len(lines), 3)}
    assert values == {"runtime": "true", "infra": "false", "config": "false"}
    text = summary.read_text()
    assert "| runtime | yes | 1: agent/src/main.py | agent/**, contracts/** |" in text
    assert "| infra | no | 0 | cdk/** |" in text
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["filter", "changed", "files", "patterns"]
    assert table.splitlines()[1].split()[:2] == ["runtime", "yes"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--filters", "runtime"], "--filters: must be NAME=GLOB"),
    (["--filters", "bad name=x/**"], "--filters: must be NAME=GLOB"),
    (["--filters", "runtime="], "has no glob"),
    (["--base=--upload-pack=evil"], "--base: is not a commit SHA or ref"),
    (["--base", "-rf"], "--base"),
    (["--head", "HEAD;rm"], "--head: is not a commit SHA or ref"),
    (["--head", "deadbeef"], "--head 'deadbeef' is not a commit"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], repo: Repo, argv: list[str],
                                      fragment: str) -> None:
    code = main(["changes", "--repo", str(repo.path), "--base", repo.git("rev-parse", "HEAD"), *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert fragment in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_not_a_git_repository(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["changes", "--repo", str(tmp_path), "--base", "abc123"])
    err = capsys.readouterr().err
    assert code == 2
    assert "is not a git repository" in err


def test_parse_filter_and_defaults() -> None:
    assert parse_filter(" web = web/**, package.json ") == ("web", ("web/**", "package.json"))
    names = [f.name for f in build_filters(["infra=infrastructure/**", "web=web/**"])]
    assert names == ["runtime", "infra", "config", "web"]


def test_decide_without_a_diff_marks_everything_changed() -> None:
    result = decide(build_filters([]), None)
    assert [(g.name, g.changed, g.files) for g in result] == [
        ("runtime", True, None), ("infra", True, None), ("config", True, None)]


def test_patterns_are_anchored_with_gitignore_double_star() -> None:
    (runtime,) = [f for f in build_filters(["runtime=agent/**,**/Dockerfile"]) if f.name == "runtime"]
    paths = ["agent/a/b/c.py", "x/agent/a.py", "tools/Dockerfile", "agentx/y", "Dockerfile"]
    assert runtime.matches(paths) == ["agent/a/b/c.py", "tools/Dockerfile", "Dockerfile"]
