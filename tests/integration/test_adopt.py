"""`abca-deploy runtime adopt` through `main()` on the sandbox pieces: a runtime in the AgentCore emulator
(real containers), the distribution registry, moto's CloudFormation, ECR and SSM.

The stack is what a live unpatched ABCA stack looks like after step 3 of integrations/abca/README.md: the
main stack (its `RuntimeArn` output) and the image stack `<stack>-runtime-image` (the CI repository, the
outputs, and the image parameter its seed wrote, tagged with the stack's name). The bad inputs exit 2 and
write nothing: no image in the CI repository, no parameter change, not even the runtime's lease.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.integration.conftest import ECR_HOST, TEST_REPOSITORY

from abca_deploy import abca_stack
from abca_deploy.build.copy import Endpoint, copy_image
from abca_deploy.build.registry import Registry
from abca_deploy.cli import main
from abca_deploy.runtime.adopt import adopted_tag

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from abca_deploy.sandbox.emulator.server import EmulatorServer
    from abca_deploy.sandbox.registry import Registry as RunningRegistry

pytestmark = [
    pytest.mark.docker,
    # moto keeps the AgentCore resource in the template but does not model it, and says so with a warning.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..BedrockAgentCore..Runtime"),
]


@dataclass
class Live:
    """An unpatched stack of the test's own (the registry outlives each test, moto does not: so a new CI
    repository each time) whose runtime serves ``image``; ``registry`` reads the sandbox registry."""

    stack: str
    runtime_id: str
    runtime_arn: str
    image: str
    registry: Registry

    @property
    def digest(self) -> str:
        return self.image.split("@", 1)[1]

    @property
    def ci_name(self) -> str:
        return abca_stack.image_repository_name(self.stack)

    @property
    def ci(self) -> str:
        return f"{ECR_HOST}/{self.ci_name}"

    @property
    def parameter(self) -> str:
        return abca_stack.image_parameter_name(self.stack)

    def adopt(self, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = main(["runtime", "adopt", "--stack-name", self.stack, "--output", "json", "--lease-ttl", "5",
                     *flags])
        out, err = capsys.readouterr()
        return code, json.loads(out) if out.strip() else {}, err

    def adopted(self) -> str | None:
        """What the adopted tag names in the CI repository (None: nothing was copied)."""
        return self.registry.digest(self.ci_name, adopted_tag(self.digest))

    def deploy_stack(self) -> None:
        """The unpatched main stack: its output names the runtime."""
        template = {"Resources": {"Runtime": {"Type": "AWS::BedrockAgentCore::Runtime",
                                              "Properties": {"AgentRuntimeName": "adopt_test"}}},
                    "Outputs": {"RuntimeArn": {"Value": self.runtime_arn}}}
        boto3.client("cloudformation").create_stack(StackName=self.stack, TemplateBody=json.dumps(template))

    def deploy_image_stack(self, seed: str | None, owner: str | None = None) -> None:
        """What `cdk deploy <stack>-runtime-image --exclusively` leaves: the CI repository, the outputs, and
        (``seed``) the parameter its seed creates, tagged with the stack it belongs to."""
        template = {
            "Resources": {"Repository": {"Type": "AWS::ECR::Repository", "Properties": {
                "RepositoryName": self.ci_name, "ImageTagMutability": "IMMUTABLE"}}},
            "Outputs": {abca_stack.IMAGE_PARAMETER_OUTPUT: {"Value": self.parameter},
                        abca_stack.IMAGE_REPOSITORY_OUTPUT: {"Value": self.ci}},
        }
        boto3.client("cloudformation").create_stack(StackName=abca_stack.image_stack_name(self.stack),
                                                    TemplateBody=json.dumps(template))
        if seed is not None:
            tags = [{"Key": abca_stack.OWNER_TAG, "Value": owner or self.stack}]
            boto3.client("ssm").put_parameter(Name=self.parameter, Value=seed, Type="String", Tags=tags)

    def parameter_now(self) -> tuple[str, int] | None:
        """The image parameter's value and version (a write, even of the same value, bumps the version)."""
        ssm = boto3.client("ssm")
        try:
            found = ssm.get_parameter(Name=self.parameter)["Parameter"]
        except ssm.exceptions.ParameterNotFound:
            return None
        return str(found["Value"]), int(found["Version"])


def own_state() -> list[str]:
    """Every parameter abca-deploy keeps for itself (leases, records)."""
    found = boto3.client("ssm").get_parameters_by_path(Path="/abca-deploy", Recursive=True)
    return sorted(p["Name"] for p in found["Parameters"])


@pytest.fixture
def runtime_for(moto_env: str, emulator: EmulatorServer, registry: RunningRegistry,
                new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
                monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Live]:
    """``runtime_for(image)`` -> a READY runtime serving ``image`` and the unpatched stack naming it."""
    monkeypatch.setenv("ABCA_ECR_REGISTRY_ENDPOINT", registry.host)

    def make(image: str) -> Live:
        created = new_runtime(image)
        assert wait_runtime(created["agentRuntimeId"])["status"] == "READY"
        live = Live(f"adopt-{os.urandom(4).hex()}", created["agentRuntimeId"], created["agentRuntimeArn"],
                    image, Registry(registry.host))
        live.deploy_stack()
        return live

    return make


@pytest.fixture
def live(runtime_for: Callable[[str], Live], agent_image: Callable[..., str]) -> Live:
    return runtime_for(agent_image(message="deployed by cdk"))


def test_adopt_copies_the_live_image_records_it_and_then_has_nothing_to_do(
    live: Live, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    live.deploy_image_stack(seed=live.image)
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))

    code, doc, err = live.adopt(capsys)

    assert code == 0, err
    assert doc["status"] == "adopted"
    assert doc["adopted_image"] == f"{live.ci}@{live.digest}"
    source = f"stack {live.stack}-runtime-image output RuntimeImageRepositoryUri"
    assert doc["image_repository_source"] == source
    assert live.adopted() == live.digest  # the copy has the live image's digest
    assert live.registry.manifest(live.ci_name, live.digest).raw == live.registry.manifest(
        TEST_REPOSITORY, live.digest).raw
    assert doc["copy"]["mounted"] >= 2  # one registry: the blobs are mounted, none uploaded
    assert doc["copy"]["uploaded"] == 0
    assert live.parameter_now() == (f"{live.ci}@{live.digest}", 2)
    assert [s["step"] for s in doc["next_steps"]] == [5, 6, 7, 8]
    assert doc["next_steps"][-1]["commands"] == [
        f"abca-deploy runtime publish --stack-name {live.stack} --ecr-repository {live.ci_name} "
        f"--image-parameter {live.parameter}"]
    written = outputs.read_text()
    assert "adopted-image<<" in written
    assert f"{live.ci}@{live.digest}" in written
    leases = own_state()
    assert leases == [f"/abca-deploy/runtime/{live.runtime_id}/lease/1"]  # held while it acted, released

    code, again, err = live.adopt(capsys)

    assert code == 0, err
    assert (again["status"], again["actions"], again["copy"]) == ("unchanged", [], None)
    assert "nothing to do: already adopted" in err
    assert live.parameter_now() == (f"{live.ci}@{live.digest}", 2)  # not even rewritten
    assert own_state() == leases  # and no lease taken


def test_dry_run_prints_the_plan_and_writes_nothing(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    live.deploy_image_stack(seed=live.image)
    code, doc, err = live.adopt(capsys, "--dry-run")
    assert code == 0, err
    assert doc["status"] == "planned"
    assert doc["actions"] == [
        f"copy: {live.image} -> {live.ci}:{adopted_tag(live.digest)} (digest {live.digest})",
        f"overwrite {live.parameter}: {live.image} -> {live.ci}@{live.digest}"]
    assert live.adopted() is None
    assert live.parameter_now() == (live.image, 1)
    assert own_state() == []


def _refused(live: Live, capsys: pytest.CaptureFixture[str], expected: str, *flags: str) -> None:
    """Exit 2, one line on stderr saying ``expected``, no traceback, and nothing written anywhere."""
    before = live.parameter_now()
    capsys.readouterr()
    code = main(["runtime", "adopt", "--stack-name", live.stack, *flags])
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert (code, out) == (2, "")
    assert len(errors) == 1, err
    assert expected in errors[0], err
    assert "Traceback" not in err
    assert live.adopted() is None
    assert live.parameter_now() == before
    assert own_state() == []


def test_a_missing_repository_is_refused_naming_the_step_that_creates_it(
    live: Live, capsys: pytest.CaptureFixture[str],
) -> None:
    _refused(live, capsys,
             f"The CI image repository {live.ci_name} (the integration's default name) does not exist")
    _refused(live, capsys, f"npx cdk deploy -c abcaDeploy=true {live.stack}-runtime-image --exclusively")


def test_a_parameter_owned_by_another_stack_is_refused(live: Live, capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    live.deploy_image_stack(seed=live.image, owner="pr7-agentcore")
    _refused(live, capsys, f"SSM parameter {live.parameter} belongs to stack pr7-agentcore")


def test_an_untagged_parameter_recording_another_image_is_refused(
    live: Live, capsys: pytest.CaptureFixture[str], agent_image: Callable[..., str],
) -> None:
    live.deploy_image_stack(seed=None)
    boto3.client("ssm").put_parameter(Name=live.parameter, Value=agent_image(message="something else"),
                                      Type="String")
    _refused(live, capsys, "has no abca-deploy:stack-name tag")


def test_bad_flags_are_refused(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(live, capsys, "--image-repository: is not an ECR repository name or URI",
             "--image-repository", "Not/Lower")
    _refused(live, capsys, f"Stack {live.stack} has no output 'Arn'", "--runtime-output", "Arn")


def test_without_the_image_stack_the_flags_name_the_repository_and_the_parameter_is_created(
    live: Live, capsys: pytest.CaptureFixture[str],
) -> None:
    repository = f"ci-{live.stack}/agent"
    boto3.client("ecr").create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    code, doc, err = live.adopt(capsys, "--image-repository", repository)
    assert code == 0, err
    assert doc["image_repository_source"] == "--image-repository"
    assert live.parameter_now() == (f"{ECR_HOST}/{repository}@{live.digest}", 1)
    tags = boto3.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=live.parameter)
    assert tags["TagList"] == [{"Key": abca_stack.OWNER_TAG, "Value": live.stack}]
    assert live.registry.digest(repository, adopted_tag(live.digest)) == live.digest


def test_a_runtime_deployed_by_tag_is_adopted_only_from_a_repository_with_immutable_tags(
    runtime_for: Callable[[str], Live], registry: RunningRegistry, agent_image: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pinned = agent_image(message="an asset image")
    digest = pinned.split("@", 1)[1]
    client = Registry(registry.host)
    assets = f"cdk-assets-{os.urandom(4).hex()}/images"
    copy_image(Endpoint(client, TEST_REPOSITORY), digest, Endpoint(client, assets), "asset-hash")
    by_tag = f"{ECR_HOST}/{assets}:asset-hash"  # what CDK's fromAsset gives the runtime: the asset hash
    live = runtime_for(by_tag)
    live.deploy_image_stack(seed=by_tag)
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=assets, imageTagMutability="MUTABLE")
    tagged = Live(live.stack, live.runtime_id, live.runtime_arn, f"{by_tag}@{digest}", client)  # for checks

    _refused(tagged, capsys, "by tag, in a repository whose tags can move (MUTABLE)")

    ecr.put_image_tag_mutability(repositoryName=assets, imageTagMutability="IMMUTABLE")
    code, doc, err = live.adopt(capsys)
    assert code == 0, err
    assert doc["notes"] == [f"{by_tag} is a tag in a repository with immutable tags: it names {digest}"]
    assert tagged.adopted() == digest
    assert live.parameter_now() == (f"{live.ci}@{digest}", 2)
