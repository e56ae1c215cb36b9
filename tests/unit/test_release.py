"""Releases: one version source, the changelog, the pins of our actions and workflows (scripts/release pins
and pin, run as a maintainer runs them), the tag check the release workflow runs, release.yml's order and
permissions, and the consumer's Dependabot example."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from tests.unit.test_workflows import ROOT, VERIFIED_PINS, load, tool

from abca_deploy import __version__

RELEASE = ROOT / "scripts/release"
CHANGELOG = ROOT / "CHANGELOG.md"
WORKFLOW = ROOT / ".github/workflows/release.yml"
PIN = re.compile(r"[\w.-]+/abca-deploy/[^@\s]+@(?P<sha>[0-9a-f]{40}) # (?P<tag>\S+)")
# What the release tooling reads and writes, copied into a scratch repository for the tests that change it.
PINNED = ("examples/workflows/*.yml", "docs/*.md", "actions/*/README.md")
RELEASE_FILES = ("lib/abca_deploy/__init__.py", "CHANGELOG.md", "README.md",
                 "integrations/abca/agent-mise.toml",
                 *(str(p.relative_to(ROOT)) for pattern in PINNED for p in ROOT.glob(pattern)))


def release(*argv: str, root: Path = ROOT,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RELEASE), "--root", str(root), *argv], capture_output=True,
                          text=True, check=False, env=env)


def git(root: Path, *argv: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *argv], cwd=root,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A scratch git repository holding the files the release tooling reads, as committed here."""
    root = tmp_path / "repo"
    for name in RELEASE_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release files")
    return root


def date_the_release(root: Path, version: str = __version__) -> None:
    changelog = root / "CHANGELOG.md"
    text = changelog.read_text()
    assert f"## [{version}] - Unreleased" in text
    changelog.write_text(text.replace(f"## [{version}] - Unreleased", f"## [{version}] - 2027-01-15"))
    git(root, "commit", "-qam", f"Release {version}")


# -- one version source --
def test_the_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"] == {"path": "lib/abca_deploy/__init__.py"}
    assert project["project"]["optional-dependencies"]["sandbox"] == ["moto[server]==5.2.5"]
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", __version__)


# -- the changelog --
def test_the_changelog_has_a_section_for_the_current_version() -> None:
    text = CHANGELOG.read_text()
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    versions = re.findall(r"^## \[([^\]]+)\] - (\d{4}-\d{2}-\d{2}|Unreleased)$", text, re.MULTILINE)
    assert versions, "no `## [X.Y.Z] - YYYY-MM-DD|Unreleased` section"
    assert versions[0][0] == __version__, f"the newest section is {versions[0][0]}, not {__version__}"
    assert all(date != "Unreleased" for _, date in versions[1:]), "only the newest section may be unreleased"
    assert set(re.findall(r"^### (.+)$", text, re.MULTILINE)) <= {
        "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_changelog_says_what_a_caller_must_act_on() -> None:
    text = CHANGELOG.read_text()
    section = text.split(f"## [{__version__}]", 1)[1]
    # the renames the first release makes, each with its old name, and the inputs that left the actions
    for old, new in (("region", "aws-region"), ("build-arg", "build-args"), ("tag", "tags"),
                     ("filter", "filters"), ("cedar-policy-file", "cedar-policy-files"),
                     ("mcp-server", "mcp-servers"), ("cedar-policy-module", "cedar-policy-modules"),
                     ("skill", "skills"), ("no-rollback", "rollback")):
        assert re.search(rf"\| `{re.escape(old)}`[^|]*\| `{re.escape(new)}`", section), (old, new)
    assert "`ecr-registry-endpoint` and `default-build-args` are no longer action inputs" in section
    for action in ("bedrock-agentcore:StopRuntimeSession", "ecr:GetDownloadUrlForLayer",
                   "ssm:GetParameterHistory", "cloudformation:GetTemplate"):
        assert action in section
    assert "/abca/<stack-name>/runtime-image" in section
    policy = text.split("## Deprecation policy", 1)[1].split("\n## [", 1)[0]
    assert "one minor version" in policy
    assert "deprecation" in policy
    assert "warning annotation" in policy


# -- the pins --
def test_every_pin_of_the_examples_and_docs_is_the_same_release() -> None:
    found = [(path, m) for path in (*ROOT.glob("examples/workflows/*.yml"), *ROOT.glob("docs/*.md"),
                                    *ROOT.glob("actions/*/README.md"), ROOT / "README.md")
             for m in PIN.finditer(path.read_text())]
    assert {str(Path(p).relative_to(ROOT)) for p, _ in found} >= {
        "examples/workflows/abca-deploy.yml", "examples/workflows/abca-plan.yml", "docs/workflows.md",
        "actions/publish-runtime/README.md"}
    assert len({(m["sha"], m["tag"]) for _, m in found}) == 1, [(p.name, m[0]) for p, m in found]
    done = release("pins")
    assert done.returncode == 0, done.stderr
    sha, tag = found[0][1]["sha"], found[0][1]["tag"]
    assert done.stdout == f"every pin names {tag} ({sha})\n"
    # Before the first release, and at a release's own commit (which cannot name itself), the pins hold the
    # previous release or no commit at all: never a tag the changelog does not date.
    released = re.findall(r"^## \[([^\]]+)\] - \d{4}-\d{2}-\d{2}$", CHANGELOG.read_text(), re.MULTILINE)
    assert tag[1:] in released if tag != "unreleased" else sha == "0" * 40


def test_the_example_jobs_hold_only_uses_lines_so_nothing_else_can_name_abca_deploy() -> None:
    for path in ROOT.glob("examples/workflows/*.yml"):
        text = path.read_text()
        assert not re.search(r"^\s+(repository|ref):", text, re.MULTILINE), path.name
        for job_id, job in load(path)["jobs"].items():
            if "abca-deploy" in str(job.get("steps", "")):
                pytest.fail(f"{path.name} job {job_id} names abca-deploy outside a `uses:` line")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("changes.yml@0000000000000000000000000000000000000000",
                         "changes.yml@1111111111111111111111111111111111111111", 1),
     "pins 111111111111 # unreleased, but"),
    (lambda t: t.replace("deploy-infra.yml@0000000000000000000000000000000000000000 # unreleased",
                         "deploy-infra.yml@main", 1),
     "as `@<40-hex sha> # vX.Y.Z`: uses: your-org/abca-deploy/.github/workflows/deploy-infra.yml@main"),
    (lambda t: t.replace("# unreleased", "# v9.9.9"),
     "the pins name v9.9.9, which CHANGELOG.md does not list as released"),
])
def test_a_pin_that_disagrees_or_names_no_release_fails_the_check(repo: Path, edit: object,
                                                                  message: str) -> None:
    example = repo / "examples/workflows/abca-deploy.yml"
    example.write_text(edit(example.read_text()))  # type: ignore[operator]
    done = release("pins", root=repo)
    assert done.returncode == 1
    assert message in done.stderr


def test_pin_moves_every_pin_and_the_mise_tasks_to_the_tag(repo: Path) -> None:
    date_the_release(repo)
    tag = f"v{__version__}"
    git(repo, "tag", "-a", tag, "-m", tag)  # annotated: the pin is the commit, not the tag object
    sha = git(repo, "rev-parse", f"{tag}^{{commit}}")
    done = release("pin", tag, root=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"pinned to {tag} ({sha}): ")
    example = (repo / "examples/workflows/abca-deploy.yml").read_text()
    assert f"/.github/workflows/changes.yml@{sha} # {tag}\n" in example
    assert "0000000000000000000000000000000000000000" not in example
    for job in yaml.safe_load(example)["jobs"].values():
        assert str(job["uses"]).endswith(f"@{sha}") if "uses" in job else True
    usage = (repo / "actions/publish-runtime/README.md").read_text()  # as scripts/action-docs writes it
    assert f"- uses: your-org/abca-deploy/actions/publish-runtime@{sha} # {tag}\n" in usage
    mise = (repo / "integrations/abca/agent-mise.toml").read_text()
    assert set(re.findall(r"abca-deploy==(\S+?)\}", mise)) == {__version__}
    assert release("pins", root=repo).returncode == 0
    # a tag moved to another commit after pinning is caught
    git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    git(repo, "tag", "-f", "-a", tag, "-m", tag)
    moved = release("pins", root=repo)
    assert moved.returncode == 1
    assert f"tag {tag} is commit {git(repo, 'rev-parse', 'HEAD')} in this clone, but the pins say {sha}" in (
        moved.stderr)


def test_pin_refuses_a_release_the_changelog_does_not_date_or_a_tag_that_does_not_exist(repo: Path) -> None:
    tag = f"v{__version__}"
    undated = release("pin", tag, root=repo)
    assert undated.returncode == 1
    assert f"CHANGELOG.md does not list {__version__} as released" in undated.stderr
    date_the_release(repo)
    untagged = release("pin", tag, root=repo)
    assert untagged.returncode == 1
    assert f"no tag {tag} in this clone" in untagged.stderr
    assert "0000000000000000000000000000000000000000 # unreleased" in (
        repo / "examples/workflows/abca-plan.yml").read_text()


# -- scripts/release check: what the release workflow runs before building anything it publishes --
def fake_dist(directory: Path, version: str, metadata_version: str | None = None) -> Path:
    directory.mkdir()
    (directory / f"abca_deploy-{version}.tar.gz").write_bytes(b"sdist")
    with zipfile.ZipFile(directory / f"abca_deploy-{version}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"abca_deploy-{version}.dist-info/METADATA",
                       f"Metadata-Version: 2.4\nName: abca-deploy\nVersion: {metadata_version or version}\n")
    return directory


def test_check_refuses_a_tag_that_is_not_the_package_version(repo: Path) -> None:
    done = release("check", "v99.0.0", root=repo)
    assert done.returncode == 1
    assert (f"error: tag v99.0.0 does not match the package version {__version__} "
            "(lib/abca_deploy/__init__.py)") in done.stderr
    assert release("check", "latest", root=repo).returncode == 1


def test_check_refuses_an_undated_changelog_section_with_an_annotation_on_actions(repo: Path) -> None:
    done = release("check", f"v{__version__}", root=repo, env={"GITHUB_ACTIONS": "true", "PATH": "/usr/bin"})
    assert done.returncode == 1
    assert f"::error title=Release check failed::CHANGELOG.md does not date {__version__}" in done.stdout


def test_check_passes_a_dated_release_and_writes_the_notes_and_outputs(repo: Path, tmp_path: Path) -> None:
    date_the_release(repo)
    outputs, notes = tmp_path / "outputs", tmp_path / "notes.md"
    dist = fake_dist(tmp_path / "dist", __version__)
    done = release("check", f"v{__version__}", "--dist", str(dist), "--notes", str(notes), "--sha", "a" * 40,
                   root=repo, env={"GITHUB_OUTPUT": str(outputs), "PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr
    major = f"v{__version__.split('.')[0]}"
    assert outputs.read_text() == f"version={__version__}\nprerelease=false\nmajor={major}\n"
    body = notes.read_text()
    assert body.startswith("The first release") or body.startswith("###")
    assert "### Changed" in body
    assert "## [" not in body  # only this version's section
    assert f"`pipx install abca-deploy=={__version__}`" in body
    assert f"@{'a' * 40} # v{__version__}" in body


def test_check_refuses_artifacts_of_another_version(repo: Path, tmp_path: Path) -> None:
    date_the_release(repo)
    other = fake_dist(tmp_path / "a", "0.0.1")
    wrong_name = release("check", f"v{__version__}", "--dist", str(other), root=repo)
    assert wrong_name.returncode == 1
    assert f"must hold exactly abca_deploy-{__version__}.tar.gz" in wrong_name.stderr
    lying = fake_dist(tmp_path / "b", __version__, metadata_version="0.0.1")
    wrong_metadata = release("check", f"v{__version__}", "--dist", str(lying), root=repo)
    assert wrong_metadata.returncode == 1
    assert "says Version: 0.0.1" in wrong_metadata.stderr


# -- release.yml --
def test_release_runs_on_version_tags_and_publishes_only_what_it_built_and_tested() -> None:
    document = load(WORKFLOW)
    assert document[True] == {"push": {"tags": ["v*"]}}
    jobs = document["jobs"]
    runs = {job_id: "\n".join(str(s.get("run", "")) for s in job["steps"]) for job_id, job in jobs.items()}
    assert [job_id for job_id, text in runs.items() if "uv build" in text] == ["build"]  # built once
    assert 'scripts/release check "$TAG" --dist' in runs["build"]
    assert jobs["test"]["needs"] == "build"
    assert jobs["test"]["steps"][-1]["env"] == {"RELEASE_DIST_DIR": "${{ runner.temp }}/dist"}
    assert set(jobs["publish"]["needs"]) == {"build", "test"}
    assert set(jobs["github-release"]["needs"]) == {"build", "publish"}
    assert set(jobs["major-tag"]["needs"]) == {"build", "github-release"}
    assert jobs["major-tag"]["if"] == "needs.build.outputs.prerelease == 'false'"
    for job_id in ("publish", "github-release"):  # the files they ship are the build job's artifact
        names = [s["with"]["name"] for s in jobs[job_id]["steps"]
                 if str(s.get("uses", "")).startswith("actions/download-artifact@")]
        assert "dist" in names, job_id


def test_release_permissions_are_per_job_and_least() -> None:
    jobs = load(WORKFLOW)["jobs"]
    assert {job_id: job["permissions"] for job_id, job in jobs.items()} == {
        "build": {"contents": "read"}, "test": {"contents": "read"}, "publish": {"id-token": "write"},
        "github-release": {"contents": "write"}, "major-tag": {"contents": "write"}}
    publish = jobs["publish"]
    assert publish["environment"]["name"] == "pypi"
    (step,) = [s for s in publish["steps"] if "pypa/gh-action-pypi-publish@" in str(s.get("uses", ""))]
    assert step["uses"] == f"pypa/gh-action-pypi-publish@{VERIFIED_PINS['pypa/gh-action-pypi-publish'][0]}"
    assert "password" not in step.get("with", {})  # trusted publishing: no token
    text = WORKFLOW.read_text()
    assert "secrets." not in text
    assert text.count("persist-credentials: false") == 2


# -- the consumer's Dependabot example --
def test_the_dependabot_example_is_valid_and_groups_every_abca_deploy_pin() -> None:
    example = ROOT / "examples/dependabot.yml"
    done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(example)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load(example.read_text())
    (update,) = config["updates"]
    assert update["package-ecosystem"] == "github-actions"
    assert update["registries"] == ["abca-deploy"]
    assert config["registries"]["abca-deploy"]["type"] == "git"
    first_group = next(iter(update["groups"].values()))
    assert first_group["patterns"] == ["*/abca-deploy"]


def test_the_readme_says_how_to_install_and_pin() -> None:
    readme = (ROOT / "README.md").read_text()
    first_screen, rest = readme.split("## What is in the box", 1)
    assert "scripts/demo   #" in first_screen
    assert "scripts/test   #" in first_screen
    install = rest.split("## Install\n", 1)[1].split("\n## ", 1)[0]
    for line in ("uvx abca-deploy --help", "pipx install abca-deploy", "pipx install 'abca-deploy[sandbox]'",
                 "uvx abca-deploy@X.Y.Z", "@<sha> # vX.Y.Z", "examples/dependabot.yml", "CHANGELOG.md"):
        assert line in install, line
