"""--context and --dockerfile: checked before anything is read or written; contents are never shown."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.errors import UserError
from abca_deploy.runtime.commands import PUBLISH
from abca_deploy.runtime.settings import PublishSettings, check_paths
from abca_deploy.settings import parse

if TYPE_CHECKING:
    from pathlib import Path

RID = "abca_runtime-AbCdEfGh12"


def _escapes(path: str) -> bool:
    """Restated: does walking the segments ever climb above the start?"""
    depth = 0
    for segment in path.split("/"):
        if segment == "..":
            depth -= 1
            if depth < 0:
                return True
        elif segment not in ("", "."):
            depth += 1
    return False


@given(st.lists(st.sampled_from(["..", ".", "agent", "Dockerfile", ""]), min_size=1, max_size=6))
def test_a_relative_dockerfile_is_accepted_exactly_when_it_stays_inside(segments: list[str]) -> None:
    path = "/".join(segments)
    try:
        PublishSettings(runtime_id=RID, dockerfile=path)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (not posixpath.isabs(path) and not _escapes(path))


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "/dev/zero", "agent/../../x"])
def test_escaping_dockerfiles_are_refused_when_parsed(path: str) -> None:
    with pytest.raises(UserError) as caught:
        parse(PUBLISH, "p", ["--runtime-id", RID, "--dockerfile", path])
    assert caught.value.message.startswith("--dockerfile: must be a path inside --context")


def _context(tmp_path: Path) -> Path:
    (tmp_path / "ctx" / "agent").mkdir(parents=True)
    (tmp_path / "ctx" / "agent" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "secret").write_text("root:x:0:0:SECRET-CONTENT\n")
    return tmp_path / "ctx"


def test_a_symlink_out_of_the_context_is_refused_without_reading_it(tmp_path: Path) -> None:
    context = _context(tmp_path)
    (context / "agent" / "Link").symlink_to(tmp_path / "secret")
    with pytest.raises(UserError) as caught:
        check_paths(PublishSettings(runtime_id=RID, context=str(context), dockerfile="agent/Link"))
    assert "resolves outside --context" in caught.value.message
    assert "SECRET" not in caught.value.one_line()


@pytest.mark.parametrize(("context", "dockerfile", "fragment"), [
    ("/dev/zero", "agent/Dockerfile", "is not a directory"),
    ("{tmp}/missing", "agent/Dockerfile", "does not exist"),
    ("{tmp}/ctx", "agent", "does not exist in the context"),
    ("{tmp}/ctx", "agent/Missing", "does not exist in the context"),
])
def test_bad_paths_are_user_errors(tmp_path: Path, context: str, dockerfile: str, fragment: str) -> None:
    _context(tmp_path)
    settings = PublishSettings(runtime_id=RID, context=context.format(tmp=tmp_path), dockerfile=dockerfile)
    with pytest.raises(UserError) as caught:
        check_paths(settings)
    assert fragment in caught.value.message


def test_in_actions_the_context_stays_in_the_workspace(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    context = _context(tmp_path)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(context))
    check_paths(PublishSettings(runtime_id=RID, context=str(context)))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "elsewhere"))
    with pytest.raises(UserError, match="outside the workspace"):
        check_paths(PublishSettings(runtime_id=RID, context=str(context)))


def test_an_existing_image_needs_no_context(tmp_path: Path) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:v1"
    check_paths(PublishSettings(runtime_id=RID, image=image, context=str(tmp_path / "nowhere")))


@pytest.mark.parametrize("flag", ["--ecr-repository", "--cache-repository"])
@pytest.mark.parametrize("value", ["Bad Name", "abca/agent:v1", "Abca/agent",
                                   f"123456789012.dkr.ecr.us-east-1.amazonaws.com/a@sha256:{'a' * 64}"])
def test_repositories_are_checked_when_parsed(flag: str, value: str) -> None:
    """Refused before the lease or any AWS call, like every other input."""
    with pytest.raises(UserError) as caught:
        parse(PUBLISH, "p", ["--runtime-id", RID, flag, value])
    assert caught.value.message.startswith(f"{flag}: is not an ECR repository name or URI (no tag or digest)")


@pytest.mark.parametrize("value", ["abca/agent", "backgroundagent-runtime/main-agentcore",
                                   "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"])
def test_repository_names_and_uris_are_accepted(value: str) -> None:
    settings = parse(PUBLISH, "p", ["--runtime-id", RID, "--ecr-repository", value,
                                    "--cache-repository", value])
    assert (settings.ecr_repository, settings.cache_repository) == (value, value)
