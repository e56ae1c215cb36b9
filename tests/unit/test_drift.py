"""`abca-deploy drift`: the template's image, the comparison, and the command against stubbed AWS APIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from abca_deploy.cli import main
from abca_deploy.gates.images import digest_of, judge, same_image
from abca_deploy.gates.template import Pseudo, TemplateImage, template_image

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from botocore.stub import Stubber

ACCOUNT, REGION = "123456789012", "us-east-1"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/abca-agent"
DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
RUNTIME_ID = "abca_runtime-AbCdEf1234"
RUNTIME_ARN = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/{RUNTIME_ID}"
PSEUDO = Pseudo("aws", REGION, ACCOUNT)
CDK_ASSET = (
    "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
    "cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}:0f1e2d"
)


def runtime_resource(uri: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::BedrockAgentCore::Runtime",
        "Properties": {
            "AgentRuntimeName": "abca",
            "AgentRuntimeArtifact": {"ContainerConfiguration": {"ContainerUri": uri}},
        },
    }


def stack_template(uri: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Resources": {"Runtime": runtime_resource(uri)},
        "Outputs": {"RuntimeArn": {"Value": {"Fn::GetAtt": ["Runtime", "AgentRuntimeArn"]}}},
        **extra,
    }


# -- where the template gets its image --
def test_literal_image() -> None:
    found = template_image(stack_template(f"{REPO}:v1"), "RuntimeArn", PSEUDO)
    assert (found.image, found.note, found.logical_id) == (f"{REPO}:v1", "literal", "Runtime")


def test_cdk_asset_sub_is_resolved_with_the_stacks_pseudo_parameters() -> None:
    found = template_image(stack_template({"Fn::Sub": CDK_ASSET}), "RuntimeArn", PSEUDO)
    assert found.image == (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cdk-hnb659fds-container-assets-{ACCOUNT}-{REGION}:0f1e2d"
    )
    assert found.note.startswith("fixed (Fn::Sub")


def test_join_of_pseudo_parameters_and_sub_variables_are_resolved() -> None:
    join = {
        "Fn::Join": [
            "",
            [{"Ref": "AWS::AccountId"}, ".dkr.ecr.", {"Ref": "AWS::Region"}, ".amazonaws.com/a:1"],
        ]
    }
    assert (
        template_image(stack_template(join), "RuntimeArn", PSEUDO).image
        == f"{REPO[: -len('/abca-agent')]}/a:1"
    )
    sub = {"Fn::Sub": ["${Repo}:${Tag}", {"Repo": REPO, "Tag": "v2"}]}
    assert template_image(stack_template(sub), "RuntimeArn", PSEUDO).image == f"{REPO}:v2"


@pytest.mark.parametrize(
    "uri",
    [
        {"Fn::Sub": "${Repo}:latest"},  # a template parameter: unknown here
        {"Fn::GetAtt": ["Repository", "RepositoryUri"]},
        {"Fn::Join": [":", [{"Fn::GetAtt": ["Repository", "RepositoryUri"]}, "v1"]]},
        {"Ref": "ImageUri"},  # a plain String parameter
    ],
)
def test_expressions_that_are_not_fixed_are_reported_not_compared(uri: Any) -> None:
    template = stack_template(uri, Parameters={"ImageUri": {"Type": "String"}})
    found = template_image(template, "RuntimeArn", PSEUDO)
    assert found.image is None
    assert found.parameter is None
    assert found.note.startswith("not a literal (")


def test_cdk_value_for_string_parameter_names_the_ssm_parameter() -> None:
    template = stack_template(
        {"Ref": "SsmParameterValueabcaruntimeimage"},
        Parameters={
            "SsmParameterValueabcaruntimeimage": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/abca/runtime-image",
            }
        },
    )
    found = template_image(template, "RuntimeArn", PSEUDO)
    assert (found.image, found.parameter) == (None, "/abca/runtime-image")


def test_dynamic_reference_names_the_ssm_parameter() -> None:
    found = template_image(stack_template("{{resolve:ssm:/abca/runtime-image:3}}"), "RuntimeArn", PSEUDO)
    assert (found.image, found.parameter) == (None, "/abca/runtime-image")


def test_the_output_picks_the_runtime_among_several() -> None:
    template = {
        "Resources": {"Blue": runtime_resource(f"{REPO}:blue"), "Green": runtime_resource(f"{REPO}:green")},
        "Outputs": {"RuntimeArn": {"Value": {"Fn::GetAtt": "Green.AgentRuntimeArn"}}},
    }
    assert template_image(template, "RuntimeArn", PSEUDO).image == f"{REPO}:green"
    template["Outputs"] = {"RuntimeArn": {"Value": RUNTIME_ARN}}
    found = template_image(template, "RuntimeArn", PSEUDO)
    assert found.image is None
    assert "2 runtime resources" in found.note


def test_a_literal_output_with_one_runtime_resource_uses_it() -> None:
    template = stack_template(f"{REPO}:v1")
    template["Outputs"] = {"RuntimeArn": {"Value": RUNTIME_ARN}}
    assert template_image(template, "RuntimeArn", PSEUDO).image == f"{REPO}:v1"


def test_no_runtime_resource() -> None:
    found = template_image({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}, "RuntimeArn", PSEUDO)
    assert found == TemplateImage("no AWS::BedrockAgentCore::Runtime resource in the template")


# -- comparing images --
def test_images_compare_by_digest_when_both_are_pinned() -> None:
    assert digest_of(f"{REPO}:v1@{DIGEST_A}") == DIGEST_A
    assert digest_of(f"{REPO}:v1") is None
    assert same_image(f"{REPO}@{DIGEST_A}", f"{REPO}:v7@{DIGEST_A}")
    assert not same_image(f"{REPO}@{DIGEST_A}", f"{REPO}@{DIGEST_B}")
    assert not same_image(f"{REPO}:v1", f"{REPO}@{DIGEST_A}")  # a tag cannot prove it is that digest
    assert same_image(f"{REPO}:v1", f" {REPO}:v1")


def test_judge_in_sync_when_the_template_reads_the_parameter_that_matches() -> None:
    live = f"{REPO}@{DIGEST_A}"
    verdict = judge(
        "s",
        live,
        "rt",
        TemplateImage("read from SSM parameter /p", parameter="/p"),
        ("/p", f"{REPO}:sha-1@{DIGEST_A}"),
    )
    assert verdict.in_sync
    assert [(s.source, s.in_sync) for s in verdict.sources] == [
        ("runtime", None),
        ("template", None),
        ("parameter", True),
    ]


def test_judge_template_drift_explains_the_revert_and_the_fix() -> None:
    verdict = judge(
        "backgroundagent-dev", f"{REPO}@{DIGEST_B}", "rt", TemplateImage("literal", f"{REPO}:v1"), None
    )
    assert not verdict.in_sync
    (problem,) = verdict.problems
    assert "`cdk deploy`" in problem
    assert "revert the CI-published image" in problem
    assert "backgroundagent-dev" in problem
    assert "docs/workflows.md" in verdict.fixes[0]


def test_judge_parameter_drift_gives_the_put_parameter_fix() -> None:
    live = f"{REPO}@{DIGEST_B}"
    verdict = judge(
        "s", live, "rt", TemplateImage("not a literal (Fn::GetAtt)"), ("/p", f"{REPO}@{DIGEST_A}")
    )
    assert not verdict.in_sync
    assert "SSM parameter /p records" in verdict.problems[0]
    assert f"--value {live}" in verdict.fixes[0]


# -- the command against stubbed AWS APIs --
class Stubs:
    """Real botocore clients with Stubbers, handed to the command through the client factory."""

    def __init__(self) -> None:
        import boto3
        from botocore.stub import Stubber

        self.clients = {
            name: boto3.client(name, region_name=REGION)
            for name in ("cloudformation", "bedrock-agentcore-control", "ssm")
        }
        self.stubbers: dict[str, Stubber] = {n: Stubber(c) for n, c in self.clients.items()}
        for stubber in self.stubbers.values():
            stubber.activate()

    def __getitem__(self, name: str) -> Stubber:
        return self.stubbers[name]

    def stack(self, outputs: dict[str, str] | None = None, name: str = "abca",
              status: str = "UPDATE_COMPLETE") -> None:
        outputs = {"RuntimeArn": RUNTIME_ARN} if outputs is None else outputs
        self["cloudformation"].add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": name,
                        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                        "StackStatus": status,
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                    }
                ]
            },
            {"StackName": name},
        )

    def runtime(self, image: str) -> None:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        self["bedrock-agentcore-control"].add_response(
            "get_agent_runtime",
            {
                "agentRuntimeArn": RUNTIME_ARN,
                "agentRuntimeName": "abca_runtime",
                "agentRuntimeId": RUNTIME_ID,
                "agentRuntimeVersion": "7",
                "createdAt": now,
                "lastUpdatedAt": now,
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/runtime",
                "status": "READY",
                "lifecycleConfiguration": {},
                "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": image}},
            },
            {"agentRuntimeId": RUNTIME_ID},
        )

    def template(self, template: dict[str, Any], name: str = "abca") -> None:
        self["cloudformation"].add_response(
            "get_template",
            {"TemplateBody": json.dumps(template)},
            {"StackName": name, "TemplateStage": "Original"},
        )

    def parameter(self, name: str, value: str) -> None:
        self["ssm"].add_response(
            "get_parameter", {"Parameter": {"Name": name, "Type": "String", "Value": value}}, {"Name": name}
        )

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubs]:
    stubs = Stubs()
    monkeypatch.setattr(
        "abca_deploy.aws.session.client", lambda service, region=None, **_: stubs.clients[service]
    )
    yield stubs
    stubs.assert_done()


def drift(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(["drift", "--stack-name", "abca", "--output", "json", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def test_in_sync_after_a_publish_that_recorded_the_parameter(
    capsys: pytest.CaptureFixture[str], stubs: Stubs
) -> None:
    live = f"{REPO}@{DIGEST_A}"
    stubs.stack()
    stubs.runtime(live)
    stubs.template(
        stack_template(
            {"Ref": "Image"},
            Parameters={
                "Image": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/abca/runtime-image"}
            },
        )
    )
    stubs.parameter("/abca/runtime-image", live)
    code, doc, _ = drift(capsys)
    assert code == 0
    assert doc["in_sync"] is True
    assert [(s["source"], s["image"], s["in_sync"]) for s in doc["sources"]] == [
        ("runtime", live, None),
        ("template", None, None),
        ("parameter", live, True),
    ]


def test_drift_when_the_template_pins_the_cdk_asset(capsys: pytest.CaptureFixture[str], stubs: Stubs) -> None:
    live = f"{REPO}@{DIGEST_B}"
    stubs.stack()
    stubs.runtime(live)
    stubs.template(stack_template({"Fn::Sub": CDK_ASSET}))
    code, doc, err = drift(capsys)
    assert code == 3
    assert doc["in_sync"] is False
    assert doc["sources"][1]["in_sync"] is False
    assert "would revert the CI-published image" in err
    assert "Fix:" in err
    assert "Traceback" not in err


def test_drift_when_the_parameter_lags_behind(capsys: pytest.CaptureFixture[str], stubs: Stubs) -> None:
    stubs.stack()
    stubs.runtime(f"{REPO}@{DIGEST_B}")
    stubs.template(stack_template({"Fn::GetAtt": ["Repo", "RepositoryUri"]}))
    stubs.parameter("/abca/image", f"{REPO}@{DIGEST_A}")
    code, doc, err = drift(capsys, "--image-parameter", "/abca/image")
    assert code == 3
    assert doc["sources"][1]["detail"].startswith("not a literal")
    assert doc["sources"][2] == {
        "source": "parameter",
        "image": f"{REPO}@{DIGEST_A}",
        "in_sync": False,
        "detail": "/abca/image",
    }
    assert "aws ssm put-parameter --name /abca/image" in err


def test_text_table_and_actions_outputs(
    capsys: pytest.CaptureFixture[str], stubs: Stubs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = f"{REPO}:v1"
    stubs.stack()
    stubs.runtime(live)
    stubs.template(stack_template(live))
    output, summary = tmp_path / "out", tmp_path / "summary"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("ABCA_STACK_NAME", "abca")
    assert main(["drift"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["source", "image", "in", "sync", "detail"]
    assert table[2].split()[:3] == ["template", live, "yes"]
    assert table[-1] == "in sync"
    lines = output.read_text().splitlines()
    assert {lines[i].split("<<")[0]: lines[i + 1] for i in range(0, len(lines), 3)} == {
        "in-sync": "true",
        "runtime-image": live,
    }
    assert f"| template | {live} | yes | literal |" in summary.read_text()


@pytest.mark.parametrize("status", [None, "REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE"])
def test_a_stack_that_does_not_exist_yet_is_a_first_deploy(capsys: pytest.CaptureFixture[str], stubs: Stubs,
                                                           status: str | None) -> None:
    """A brand-new stack (an ABCA PR stack, a new account) must reach its first deploy: notice, exit 0."""
    if status is None:
        stubs["cloudformation"].add_client_error(
            "describe_stacks", "ValidationError", "Stack with id abca does not exist",
            expected_params={"StackName": "abca"})
    else:
        stubs.stack({}, status=status)
    code, doc, err = drift(capsys, "--image-parameter", "/abca/abca/runtime-image")
    assert code == 0
    assert doc == {"stack_name": "abca", "in_sync": True, "first_deploy": True, "sources": [], "problems": [],
                   "fixes": []}
    assert "notice: Stack abca does not exist yet" in err
    assert "Traceback" not in err


def test_a_parameter_that_does_not_exist_yet_means_no_ci_publish(capsys: pytest.CaptureFixture[str],
                                                                 stubs: Stubs) -> None:
    """ABCA as it is: the template pins the CDK asset the runtime still runs, and nothing published yet."""
    assets = f"cdk-hnb659fds-container-assets-{ACCOUNT}-{REGION}"
    live = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{assets}:0f1e2d"
    stubs.stack()
    stubs.runtime(live)
    stubs.template(stack_template({"Fn::Sub": CDK_ASSET}))
    stubs["ssm"].add_client_error(
        "get_parameter", "ParameterNotFound", "not found",
        expected_params={"Name": "/abca/abca/runtime-image"})
    code, doc, err = drift(capsys, "--image-parameter", "/abca/abca/runtime-image")
    assert code == 0
    assert doc["in_sync"] is True
    assert [s["source"] for s in doc["sources"]] == ["runtime", "template"]
    assert "notice: SSM parameter /abca/abca/runtime-image does not exist yet: no CI publish" in err
    assert "warning" not in err


def test_a_template_reading_a_missing_parameter_is_warned(capsys: pytest.CaptureFixture[str],
                                                         stubs: Stubs) -> None:
    stubs.stack()
    stubs.runtime(f"{REPO}:v1")
    stubs.template(stack_template(
        {"Ref": "Image"},
        Parameters={"Image": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"}}))
    stubs["ssm"].add_client_error("get_parameter", "ParameterNotFound", "not found",
                                  expected_params={"Name": "/x"})
    code, _, err = drift(capsys)
    assert code == 0
    assert "warning: The template reads its runtime image from /x, which does not exist" in err


def test_missing_output_and_malformed_arn_are_exit_2(
    capsys: pytest.CaptureFixture[str], stubs: Stubs
) -> None:
    stubs.stack({"Other": "x"})
    code, doc, _ = drift(capsys)
    assert (code, doc["error"]["title"]) == (2, "Missing stack output")
    stubs.stack({"RuntimeArn": "arn:aws:lambda:us-east-1:123456789012:function:f"})
    code, doc, _ = drift(capsys)
    assert (code, doc["error"]["title"]) == (2, "Invalid runtime ARN")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "--stack-name: Field required"),
        (["--stack-name", "1bad"], "--stack-name: is not a CloudFormation stack name"),
        (
            ["--stack-name", "abca", "--image-parameter", "has space"],
            "--image-parameter: is not an SSM parameter",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code = main(["drift", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert fragment in captured.err
    assert len(captured.err.strip().splitlines()) == 1
