"""The repositories CDK Blueprints declare, read from a template shaped as aws-cdk-lib synthesizes it."""

from __future__ import annotations

import json
from typing import Any

from tests.support.repo_stack import Intrinsic, blueprint, cdk_json

from abca_deploy.repos.blueprints import declared, has_token

TABLE = "backgroundagent-dev-RepoTable-1ABC"


def template(*resources: tuple[str, dict[str, Any]], output: Any = None) -> dict[str, Any]:
    return {
        "Resources": {"RepoTable": {"Type": "AWS::DynamoDB::Table"}, **dict(resources)},
        "Outputs": {"RepoTableName": {"Value": output or {"Ref": "RepoTable"}}},
    }


def test_the_fixture_serializes_like_cdk() -> None:
    # No token: one JSON string. A string token: Fn::Join with the intrinsic between the quotes of its value.
    assert cdk_json({"a": "b"}) == '{"a":"b"}'
    assert cdk_json({"TableName": Intrinsic(Ref="T"), "x": 1}) == {
        "Fn::Join": ["", ['{"TableName":"', {"Ref": "T"}, '","x":1}']]}


def test_a_blueprint_with_a_table_ref_is_read_with_its_fields() -> None:
    found, unreadable = declared(template(blueprint("awslabs/agent-plugins", {
        "max_turns": {"N": "150"}, "egress_allowlist": {"L": [{"S": "pypi.org"}]}})), TABLE)
    assert unreadable == []
    assert [(d.repo, d.where, dict(d.fields or {})) for d in found] == [
        ("awslabs/agent-plugins", "backgroundagent-dev/AgentPluginsBlueprint/RepoConfigCR",
         {"max_turns": 150, "egress_allowlist": ("pypi.org",)})]


def test_tokens_inside_values_are_kept_as_markers() -> None:
    arn = Intrinsic({"Fn::GetAtt": ["Runtime", "AgentRuntimeArn"]})
    found, _ = declared(template(blueprint("octo/app", {"runtime_arn": {"S": arn}})), TABLE)
    value = (found[0].fields or {})["runtime_arn"]
    assert value == "${GetAtt:Runtime.AgentRuntimeArn}"
    assert has_token(value)
    assert not has_token("echo ${HOME}")


def test_a_literal_table_name_counts_and_another_table_does_not() -> None:
    literal = blueprint("octo/literal", table=TABLE)
    other = blueprint("octo/other", table=Intrinsic(Ref="OtherTable"), construct="Other")
    found, unreadable = declared(template(literal, other), TABLE)
    assert [d.repo for d in found] == ["octo/literal"]
    assert unreadable == []


def test_other_custom_resources_are_ignored_and_unreadable_ones_reported() -> None:
    s3 = ("BucketCR", {"Type": "Custom::AWS", "Properties": {"Create": json.dumps(
        {"service": "S3", "action": "putObject", "parameters": {"Bucket": "b"}})}})
    broken = ("BrokenCR", {"Type": "Custom::AWS", "Properties": {"Create": {"Fn::Sub": "x"}},
                           "Metadata": {"aws:cdk:path": "s/Broken/Resource"}})
    token_repo = blueprint("octo/x", construct="Tokened")
    token_repo[1]["Properties"]["Create"] = cdk_json({
        "service": "DynamoDB", "action": "putItem", "parameters": {
            "TableName": Intrinsic(Ref="RepoTable"), "Item": {"repo": {"S": Intrinsic(Ref="RepoParam")}}}})
    found, unreadable = declared(template(s3, broken, token_repo), TABLE)
    assert found == []
    assert unreadable == ["s/Broken/Resource", "backgroundagent-dev/Tokened/RepoConfigCR/Resource/Default"]


def test_a_number_typed_token_outside_quotes_still_parses() -> None:
    resource = blueprint("octo/app")
    resource[1]["Properties"]["Create"] = {"Fn::Join": ["", [
        '{"service":"DynamoDB","action":"putItem","parameters":{"TableName":"', {"Ref": "RepoTable"},
        '","Item":{"repo":{"S":"octo/app"},"n":', {"Ref": "Count"}, "}}}"]]}
    found, unreadable = declared(template(resource), TABLE)
    assert [d.repo for d in found] == ["octo/app"]
    assert unreadable == []


def test_an_update_only_call_declares_the_repo_with_unknown_fields() -> None:
    logical, resource = blueprint("octo/app")
    del resource["Properties"]["Create"]
    found, _ = declared(template((logical, resource)), TABLE)
    assert [(d.repo, d.fields) for d in found] == [("octo/app", None)]


def test_a_template_aws_cdk_lib_synthesized_is_read() -> None:
    """tests/fixtures/cdk_blueprints: what aws-cdk-lib 2.276 really renders for such custom resources."""
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "cdk_blueprints" / "template.json"
    found, unreadable = declared(json.loads(fixture.read_text()), "backgroundagent-dev-RepoTableEFF51FFC-1X")
    assert unreadable == []
    assert {d.repo: (d.where, dict(d.fields or {})) for d in found} == {
        "awslabs/agent-plugins": ("backgroundagent-dev/PluginsBlueprint/RepoConfigCR", {}),
        "acme/fork": ("backgroundagent-dev/ForkBlueprint/RepoConfigCR", {
            "max_turns": 80, "github_token_secret_arn": "${Ref:ForkToken7FABEBDA}",
            "egress_allowlist": ("pypi.org", "*.example.com"),
            "system_prompt_overrides": 'Say "hi"\nand \\ backslash'}),
    }
