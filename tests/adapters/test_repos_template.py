"""The deployed template as repo sync reads it (GetTemplate on the moto server): JSON bodies and YAML ones."""

from __future__ import annotations

import json

import boto3
import pytest

from abca_deploy.aws.cloudformation import CloudFormation
from abca_deploy.errors import OperationFailed
from abca_deploy.repos.blueprints import declared

CREATE = json.dumps({"service": "DynamoDB", "action": "putItem", "parameters": {
    "TableName": "@TABLE@", "Item": {"repo": {"S": "acme/yaml"}, "max_turns": {"N": "12"}}}})
HEAD, TAIL = CREATE.split("@TABLE@")
YAML_TEMPLATE = f"""\
Conditions:
  Never: !Equals [synth, deploy]
Resources:
  RepoTable:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{{AttributeName: repo, KeyType: HASH}}]
      AttributeDefinitions: [{{AttributeName: repo, AttributeType: S}}]
      BillingMode: PAY_PER_REQUEST
  Blueprint:
    Type: Custom::AWS
    Condition: Never
    Properties:
      ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:provider
      Create: !Join ['', [{json.dumps(HEAD)}, !Ref RepoTable, {json.dumps(TAIL)}]]
Outputs:
  RepoTableName:
    Value: !Ref RepoTable
"""


def test_a_yaml_template_with_short_form_intrinsics_is_read(moto_env: str) -> None:
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName="yaml-stack", TemplateBody=YAML_TEMPLATE)
    template = CloudFormation(cfn).template("yaml-stack")
    assert template["Outputs"]["RepoTableName"]["Value"] == {"Ref": "RepoTable"}
    table = cfn.describe_stacks(StackName="yaml-stack")["Stacks"][0]["Outputs"][0]["OutputValue"]
    found, unreadable = declared(template, table)
    assert [(d.repo, dict(d.fields or {})) for d in found] == [("acme/yaml", {"max_turns": 12})]
    assert unreadable == []


def test_an_unreadable_template_is_an_operation_failure_not_a_traceback() -> None:
    class Client:
        def get_template(self, **_: object) -> dict[str, str]:
            return {"TemplateBody": "Resources: [unclosed"}

    with pytest.raises(OperationFailed, match="neither JSON nor YAML that can be read"):
        CloudFormation(Client()).template("broken")
