"""`abca-deploy changes` on real git histories built in temporary directories, in ABCA's layout."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest
from tests.support.abca_repo import DOCKERFILE, DOCKERIGNORE, Repo

from abca_deploy.cli import main
from abca_deploy.gates.paths import build_filters, parse_filter

if TYPE_CHECKING:
    from pathlib import Path

ZERO = "0" * 40
NOTHING = {"runtime": False, "infra": False, "config": False}
EVERYTHING = {"runtime": True, "infra": True, "config": True}


@pytest.fixture
def repo(abca_repo: Repo) -> Repo:
    return abca_repo


def verdict(**changed: bool) -> dict[str, bool]:
    return NOTHING | changed


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
    # lockfile-only upgrades, like upstream 6edfe87b and e076f8b6
    ({"yarn.lock": "v2", "agent/uv.lock": "v2"}, verdict(runtime=True, infra=True)),
    ({"package.json": '{"resolutions": {}}'}, verdict(infra=True)),
    ({"contracts/constants.json": '{"v": 2}'}, verdict(runtime=True, infra=True)),
    ({".dockerignore": DOCKERIGNORE + "coverage/\n"}, verdict(runtime=True)),
    ({"agent/src/server.py": "v2"}, verdict(runtime=True)),
    ({"agent/policies/deny.cedar": "v2"}, verdict(runtime=True)),
    ({"agent/workflows/flow.yaml": "v2"}, verdict(runtime=True)),
    ({"agent/settings.json": '{"v": 2}'}, verdict(runtime=True)),
    ({"agent/src/server.py": None}, verdict(runtime=True)),
    # nothing the image copies or the CDK app deploys, like upstream d3974f7a, 5d6da09c and fb1e007b
    ({"agent/tests/test_server.py": "v2"}, NOTHING),
    ({"agent/run.sh": "#!/bin/bash"}, NOTHING),
    ({"agent/README.md": "v2", "contracts/README.md": "v2", "README.md": "v2"}, NOTHING),
    ({"cdk/test/agent.test.ts": "v2", "docs/guide.md": "v2", "docs/scripts/sync.mjs": "v2"}, NOTHING),
    ({"agent/src/__pycache__/server.cpython-313.pyc": "bytecode"}, NOTHING),
    ({"cli/src/main.ts": "v2", "scripts/tool.py": "v2"}, NOTHING),
    # the Dockerfile alone (plus a CDK test), like upstream a94be94c
    ({"agent/Dockerfile": DOCKERFILE + "# pinned\n", "cdk/test/pins.test.ts": "v1"}, verdict(runtime=True)),
    # a Lambda handler (plus its test and a script), like upstream 46263c09
    ({"cdk/src/handlers/shared/trigger.ts": "v2", "cdk/test/trigger.test.ts": "v1", "scripts/tool.py": "v2"},
     verdict(infra=True)),
    ({"cdk/src/stacks/agent.ts": "v2"}, verdict(infra=True)),
    ({"repos.yaml": "repos: {a/b: {}}\n"}, verdict(config=True)),
    ({"docs/repos.yaml": "not the config"}, NOTHING),
    ({"agent/src/server.py": "v2", "cdk/src/stacks/agent.ts": "v2", "repos.yaml": "x: 1\n"}, EVERYTHING),
], ids=["lockfiles", "root-package-json", "contracts-constants", "dockerignore", "agent-src", "policies",
        "workflows", "managed-settings", "agent-file-deleted", "agent-tests", "run-sh", "markdown",
        "cdk-test-and-docs", "dockerignored-bytecode", "cli-and-scripts", "dockerfile-only", "lambda-handler",
        "cdk-stack", "repos-yaml", "nested-repos-yaml-is-not-config", "everything"])
def test_abca_layout_rules(capsys: pytest.CaptureFixture[str], repo: Repo, files: dict[str, str | None],
                           expected: dict[str, bool]) -> None:
    base = repo.head()
    head = repo.commit(files)
    assert gates(capsys, repo, base, head) == expected


def test_the_runtime_filter_follows_the_dockerfile(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    """A new COPY makes its source a runtime input at once; a removed one stops counting."""
    copying = DOCKERFILE.replace("CMD [", "COPY agent/run.sh /app/run.sh\nCMD [")
    changed = repo.commit({"agent/Dockerfile": copying.replace("COPY agent/policies/ /app/policies/\n", "")})
    head = repo.commit({"agent/run.sh": "#!/bin/bash\nexec python /app/src/server.py\n"})
    assert gates(capsys, repo, changed, head) == verdict(runtime=True)
    policies = repo.commit({"agent/policies/deny.cedar": "v2"})
    assert gates(capsys, repo, head, policies) == NOTHING


def test_the_ignore_file_decides_what_the_build_receives(capsys: pytest.CaptureFixture[str],
                                                         repo: Repo) -> None:
    base = repo.head()
    more = "agent/src/fixtures/\n!agent/src/fixtures/keep.json\n"
    ignored = repo.commit({".dockerignore": DOCKERIGNORE + more})
    assert gates(capsys, repo, base, ignored) == verdict(runtime=True)
    head = repo.commit({"agent/src/fixtures/big.bin": "x"})
    assert gates(capsys, repo, ignored, head) == NOTHING
    kept = repo.commit({"agent/src/fixtures/keep.json": "{}"})
    assert gates(capsys, repo, head, kept) == verdict(runtime=True)


def test_a_dockerfile_specific_ignore_file_wins(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    added = repo.commit({"agent/Dockerfile.dockerignore": "agent/src/generated/\n"})
    head = repo.commit({"agent/src/generated/schema.py": "x"})
    assert gates(capsys, repo, added, head) == NOTHING
    # the root .dockerignore (which drops agent/**/__pycache__/) no longer applies
    bytecode = repo.commit({"agent/src/__pycache__/a.pyc": "x"})
    assert gates(capsys, repo, head, bytecode) == verdict(runtime=True)


def test_a_build_argument_in_a_source_makes_the_whole_context_count(capsys: pytest.CaptureFixture[str],
                                                                    repo: Repo) -> None:
    base = repo.commit({"agent/Dockerfile": DOCKERFILE.replace("COPY agent/src/", "ARG SRC\nCOPY ${SRC}/")})
    head = repo.commit({"scripts/tool.py": "v3"})
    result, err = run_changes(capsys, repo, base, head)
    assert result == verdict(runtime=True)
    assert "uses $SRC" in err


def test_an_arg_default_is_substituted(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    with_arg = DOCKERFILE.replace("COPY agent/src/", "ARG SRC=agent/src\nCOPY ${SRC}/")
    base = repo.commit({"agent/Dockerfile": with_arg})
    assert gates(capsys, repo, base, repo.commit({"scripts/tool.py": "v3"})) == NOTHING
    assert gates(capsys, repo, base, repo.commit({"agent/src/server.py": "v3"})) == verdict(runtime=True)


def test_a_missing_dockerfile_makes_the_whole_context_count(capsys: pytest.CaptureFixture[str],
                                                            repo: Repo) -> None:
    base = repo.head()
    head = repo.commit({"scripts/tool.py": "v3"})
    result, err = run_changes(capsys, repo, base, head, "--dockerfile", "images/agent.Dockerfile")
    assert result == verdict(runtime=True)
    assert "no such file" in err


def test_another_context_and_dockerfile(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    base = repo.commit({"images/agent/Dockerfile": "FROM x\nCOPY app/ /app/\n",
                        "images/agent/app/main.py": "v1",
                        "images/agent/tools/t.py": "v1"})
    argv = ("--context", "images/agent", "--dockerfile", "Dockerfile")
    head = repo.commit({"images/agent/tools/t.py": "v2", "agent/src/server.py": "v9"})
    assert gates(capsys, repo, base, head, *argv)["runtime"] is False
    app = repo.commit({"images/agent/app/main.py": "v2"})
    assert gates(capsys, repo, head, app, *argv)["runtime"] is True


def test_no_file_cap_400_unrelated_files_then_one_agent_file(capsys: pytest.CaptureFixture[str],
                                                             repo: Repo) -> None:
    base = repo.head()
    # "aaa/" sorts before "agent/": the agent file is the diff's 401st path, past GitHub's 300-file window.
    files: dict[str, str | None] = {f"aaa/file{i:03}.txt": str(i) for i in range(400)}
    files["agent/src/server.py"] = "v2"
    head = repo.commit(files)
    assert gates(capsys, repo, base, head) == verdict(runtime=True)


def test_a_rename_out_of_agent_counts_for_the_runtime(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    base = repo.head()
    repo.git("mv", "agent/src/server.py", "docs/server.py")
    head = repo.commit({})
    assert gates(capsys, repo, base, head)["runtime"] is True


def test_a_range_over_several_commits_is_one_tree_diff(capsys: pytest.CaptureFixture[str],
                                                       repo: Repo) -> None:
    base = repo.head()
    repo.commit({"cdk/src/stacks/agent.ts": "v2"})
    head = repo.commit({"cdk/src/stacks/agent.ts": "v1"})  # reverted: the trees of base and head agree
    assert gates(capsys, repo, base, head)["infra"] is False


@pytest.mark.parametrize("base", [ZERO, "0000000"], ids=["zero-sha-40", "zero-sha-short"])
def test_zero_base_means_everything_changed(capsys: pytest.CaptureFixture[str], repo: Repo,
                                            base: str) -> None:
    head = repo.commit({"docs/guide.md": "v2"})
    result, err = run_changes(capsys, repo, base, head)
    assert result == EVERYTHING
    assert "all zeros" in err


def test_everything_means_every_lifecycle_with_files(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    """A first run over a repository without repos.yaml does not sync a file that does not exist."""
    head = repo.commit({"repos.yaml": None})
    result, err = run_changes(capsys, repo, ZERO, head)
    assert result == verdict(runtime=True, infra=True)
    assert "everything at the head commit counts as changed" in err


def test_unknown_base_means_everything_changed(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    head = repo.commit({"docs/guide.md": "v2"})
    unknown = "1234567890abcdef1234567890abcdef12345678"
    result, err = run_changes(capsys, repo, unknown, head)
    assert result == EVERYTHING
    assert f"base commit {unknown} is not in this repository" in err


def test_shallow_clone_missing_the_base(capsys: pytest.CaptureFixture[str], repo: Repo,
                                        tmp_path: Path) -> None:
    base = repo.head()
    head = repo.commit({"docs/guide.md": "v2"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "--quiet", "--depth=1", f"file://{repo.path}", str(clone)], check=True)
    code = main(["changes", "--repo", str(clone), "--base", base, "--head", head, "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out) == EVERYTHING
    assert "shallow" in captured.err
    assert "fetch-depth: 0" in captured.err


def test_missing_base_means_everything_changed(capsys: pytest.CaptureFixture[str], repo: Repo,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_BASE", "")  # what `${{ github.event.before }}` gives on workflow_dispatch
    code = main(["changes", "--repo", str(repo.path), "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out) == EVERYTHING
    assert "No base commit" in captured.err


def test_filters_replace_defaults_and_add_new_ones(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    base = repo.head()
    head = repo.commit({"agent/README.md": "docs", "docs/guide.md": "v2"})
    result = gates(capsys, repo, base, head, "--filters", "runtime=agent/**,!agent/**/*.md",
                   "--filters", "docs=docs/**,*.md")
    assert result == NOTHING | {"docs": True}


def test_filters_from_a_multiline_environment_variable(capsys: pytest.CaptureFixture[str], repo: Repo,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    base = repo.head()
    head = repo.commit({"cdk/bin/app.ts": "x"})
    monkeypatch.setenv("ABCA_FILTERS", "infra=cdk/src/**\napp=cdk/bin/**\n")
    assert gates(capsys, repo, base, head) == NOTHING | {"app": True}


def test_actions_outputs_and_summary(capsys: pytest.CaptureFixture[str], repo: Repo, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base = repo.head()
    head = repo.commit({"agent/src/server.py": "v2"})
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
    assert f"| runtime | yes | {base[:12]} (--base) | 1: agent/src/server.py | @image (agent/Dockerfile in " \
           "." in text
    assert "agent/src, agent/policies, contracts, agent/workflows, agent/settings.json from the context), " \
           "!**/*.md |" in text
    assert f"| infra | no | {base[:12]} (--base) | 0 | cdk/**, package.json" in text
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["filter", "changed", "since", "files", "patterns"]
    assert table.splitlines()[1].split()[:2] == ["runtime", "yes"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--filters", "runtime"], "--filters: must be NAME=GLOB"),
    (["--filters", "bad name=x/**"], "--filters: must be NAME=GLOB"),
    (["--filters", "runtime="], "has no glob"),
    (["--filters", "runtime=@images"], "has an invalid glob '@images'"),
    (["--base=--upload-pack=evil"], "--base: is not a commit SHA or ref"),
    (["--base", "-rf"], "--base"),
    (["--head", "HEAD;rm"], "--head: is not a commit SHA or ref"),
    (["--head", "deadbeef"], "--head 'deadbeef' is not a commit"),
    (["--dockerfile", "../Dockerfile"], "--dockerfile: must be a path inside the repository"),
    (["--stack-name", "1stack"], "--stack-name: is not a CloudFormation stack name"),
    (["--platform-repository", "nope"], "--platform-repository: is not OWNER/REPO"),
    (["--platform-token-env", "ghp_abc-123"], "--platform-token-env: is not an environment variable name"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], repo: Repo, argv: list[str],
                                      fragment: str) -> None:
    code = main(["changes", "--repo", str(repo.path), "--base", repo.head(), *argv])
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
    names = [f.name for f in build_filters(["runtime=agent/**", "infra=infrastructure/**", "web=web/**"])]
    assert names == ["runtime", "infra", "config", "web"]


def test_patterns_are_anchored_and_the_last_match_decides() -> None:
    chosen = "runtime=agent/**,**/Dockerfile,!agent/tests/**,agent/tests/e2e/**"
    (runtime,) = [f for f in build_filters([chosen]) if f.name == "runtime"]
    paths = ["agent/a/b/c.py", "x/agent/a.py", "tools/Dockerfile", "agentx/y", "Dockerfile",
             "agent/tests/t.py", "agent/tests/e2e/run.py"]
    assert runtime.matches(paths) == ["agent/a/b/c.py", "tools/Dockerfile", "Dockerfile",
                                      "agent/tests/e2e/run.py"]
