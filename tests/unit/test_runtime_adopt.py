"""`runtime adopt`'s decision (pure), and the migration steps it prints, listed in the README as printed."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import replace
from pathlib import Path

import pytest

from abca_deploy import abca_stack
from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.runtime.adopt import (
    CiRepository,
    ImageParameter,
    LiveImage,
    Observed,
    adopted_tag,
    decide,
)
from abca_deploy.runtime.migration import remaining_steps

STACK = "backgroundagent-dev"
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "sha256:" + "ab12" * 16
OTHER = "sha256:" + "cd34" * 16
ASSETS = f"{HOST}/cdk-hnb659fds-container-assets-123456789012-us-east-1"
CI = f"{HOST}/{abca_stack.image_repository_name(STACK)}"
PARAMETER = abca_stack.image_parameter_name(STACK)
README = Path(__file__).resolve().parents[2] / "integrations" / "abca" / "README.md"


def observed(*, uri: str = f"{ASSETS}@{DIGEST}", digest: str | None = DIGEST, mutability: str | None = None,
             exists: bool = True, tag_digest: str | None = None, has_image: bool = False,
             value: str | None = f"{ASSETS}@{DIGEST}", owner: str | None = STACK) -> Observed:
    """A stack whose image stack is deployed (seeded with the live image), the main stack not patched yet."""
    return Observed(
        STACK, LiveImage("rt-AbCdEfGhIj", "7", uri, digest, mutability),
        CiRepository(CI, "stack backgroundagent-dev-runtime-image output RuntimeImageRepositoryUri", exists,
                     tag_digest, has_image),
        ImageParameter(PARAMETER, "stack output", value, owner), integrated=False)


def test_the_first_run_copies_the_image_under_a_keep_tag_and_overwrites_the_seeded_parameter() -> None:
    plan = decide(observed())
    assert (plan.copy, plan.write, plan.changes) == (True, "overwrite", True)
    assert plan.adopted_image == f"{CI}@{DIGEST}"
    assert plan.tag == "keep-adopted-ab12ab12ab12ab12"
    assert fnmatch.fnmatchcase(plan.tag, abca_stack.KEEP_TAG_PATTERN)  # the lifecycle rule that never expires
    assert plan.actions() == [
        f"copy: {ASSETS}@{DIGEST} -> {CI}:{plan.tag} (digest {DIGEST})",
        f"overwrite {PARAMETER}: {ASSETS}@{DIGEST} -> {CI}@{DIGEST}",
    ]


def test_the_adopted_tag_depends_on_the_image_only() -> None:
    assert adopted_tag(DIGEST) != adopted_tag(OTHER)
    assert len(adopted_tag(DIGEST)) <= 128  # ECR's tag limit


def test_a_second_run_has_nothing_to_do() -> None:
    plan = decide(observed(tag_digest=DIGEST, has_image=True, value=f"{CI}@{DIGEST}"))
    assert (plan.copy, plan.write, plan.changes, plan.actions()) == (False, None, False, [])


def test_a_run_stopped_after_the_copy_only_writes_the_parameter() -> None:
    plan = decide(observed(tag_digest=DIGEST, has_image=True))
    assert (plan.copy, plan.write) == (False, "overwrite")


def test_an_image_already_in_the_repository_under_another_tag_is_only_tagged() -> None:
    plan = decide(observed(has_image=True))
    assert plan.copy
    assert plan.actions()[0].startswith("tag the copy already there:")


def test_a_runtime_already_serving_from_the_ci_repository_is_not_copied_again() -> None:
    live = f"{CI}@{DIGEST}"
    plan = decide(observed(uri=live, value=live))
    assert not plan.changes
    assert plan.notes == (f"the runtime's image is already in the CI repository {CI}: nothing to copy",)
    stale = decide(observed(uri=live, value=f"{CI}@{OTHER}"))  # e.g. a publish that did not record it
    assert (stale.copy, stale.write) == (False, "overwrite")


def test_a_parameter_naming_the_copy_by_tag_and_digest_is_up_to_date() -> None:
    assert decide(observed(tag_digest=DIGEST, value=f"{CI}:keep-adopted-x@{DIGEST}")).write is None


def test_an_absent_parameter_is_created() -> None:
    assert decide(observed(value=None, owner=None)).write == "create"


def test_a_missing_repository_is_bad_input_naming_the_step_that_creates_it() -> None:
    with pytest.raises(UserError) as raised:
        decide(observed(exists=False))
    assert raised.value.exit_code == 2
    assert "is not deployed (step 3)" in raised.value.message
    assert (f"npx cdk deploy -c abcaDeploy=true {STACK}-runtime-image --exclusively"
            in (raised.value.hint or ""))


def test_a_parameter_owned_by_another_stack_is_refused() -> None:
    expected = r"belongs to stack pr12-agentcore \(its abca-deploy:stack-name tag\)"
    with pytest.raises(UserError, match=expected):
        decide(observed(owner="pr12-agentcore"))


def test_an_untagged_parameter_is_written_only_when_it_records_the_live_image() -> None:
    published = decide(observed(owner=None, value=f"{HOST}/abca/agent@{DIGEST}"))  # what publish left
    assert published.write == "overwrite"
    with pytest.raises(UserError) as raised:
        decide(observed(owner=None, value=f"{HOST}/abca/agent@{OTHER}"))
    assert "has no abca-deploy:stack-name tag" in raised.value.message
    assert (f"--resource-id {PARAMETER} --tags Key=abca-deploy:stack-name,Value={STACK}"
            in (raised.value.hint or ""))


def test_a_tag_only_image_is_adopted_only_from_a_repository_with_immutable_tags() -> None:
    tagged = f"{ASSETS}:0123abcd"  # what CDK's fromAsset deploys: the asset hash as the tag
    plan = decide(observed(uri=tagged, mutability="IMMUTABLE"))
    assert (plan.digest, plan.adopted_image) == (DIGEST, f"{CI}@{DIGEST}")
    assert plan.notes == (f"{tagged} is a tag in a repository with immutable tags: it names {DIGEST}",)
    for mutability in ("MUTABLE", "IMMUTABLE_WITH_EXCLUSION", None):
        with pytest.raises(UserError, match=r"by tag, in a repository whose tags can move") as raised:
            decide(observed(uri=tagged, mutability=mutability))
        assert f"--image {ASSETS}@sha256:<digest>" in (raised.value.hint or "")
    with pytest.raises(UserError, match=r"which names no image now"):
        decide(observed(uri=tagged, digest=None, mutability="IMMUTABLE"))


def test_the_adopted_tag_naming_another_image_fails_before_anything_is_written() -> None:
    with pytest.raises(OperationFailed, match=r"names another image"):
        decide(observed(tag_digest=OTHER, has_image=False))


def test_the_deploy_step_is_left_out_once_the_stack_is_integrated() -> None:
    steps = remaining_steps(STACK, "backgroundagent-runtime/x", PARAMETER, integrated=False)
    assert [s.number for s in steps] == [5, 6, 7, 8]
    assert [s.number for s in remaining_steps(STACK, "r", PARAMETER, integrated=True)] == [6, 7, 8]
    assert steps[-1].commands == (
        f"abca-deploy runtime publish --stack-name {STACK} --ecr-repository backgroundagent-runtime/x "
        f"--image-parameter {PARAMETER}",)
    assert replace(observed(), integrated=True).integrated


def test_the_readme_lists_the_steps_adopt_prints_with_the_same_numbers_titles_and_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## From unpatched ABCA to integrated", 1)[1].split("\n## ", 1)[0]
    steps = remaining_steps("$STACK", "$REPOSITORY", "/abca/$STACK/runtime-image", integrated=False)
    for step in steps:
        assert re.search(rf"^{step.number}\. \*\*{re.escape(step.title)}\*\*", section, re.M), step.title
        for command in step.commands:
            assert command in section, command
    assert "abca-deploy runtime adopt --stack-name $STACK --dry-run" in section
