"""Token secrets in Secrets Manager (moto server; botocore Stubber for AWS's own error shape)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from abca_deploy.aws.secrets import SecretExists, Secrets
from abca_deploy.report import Reporter
from abca_deploy.repos.tokens import TokenPlan, inspect, secret_name, store

NAME = secret_name("octo/app")


def secrets() -> Secrets:
    return Secrets(boto3.client("secretsmanager"))


def test_a_new_token_becomes_a_raw_string_secret(moto_env: str) -> None:
    plan = inspect(secrets(), NAME, "ghp_one", Reporter())
    assert plan == TokenPlan(NAME, "create")
    arn = store(secrets(), plan, "ghp_one", "octo/app", Reporter())
    client = boto3.client("secretsmanager")
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "ghp_one"
    described = client.describe_secret(SecretId=arn)
    assert described["Name"] == "abca/github-token/octo/app"
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags == {"abca:repo": "octo/app", "managed-by": "abca-deploy"}


def test_the_same_token_changes_nothing_and_a_new_one_is_a_new_version(moto_env: str) -> None:
    arn = store(secrets(), inspect(secrets(), NAME, "ghp_one", Reporter()), "ghp_one", "octo/app", Reporter())
    assert inspect(secrets(), NAME, "ghp_one", Reporter()) == TokenPlan(NAME, "unchanged", arn)
    plan = inspect(secrets(), NAME, "ghp_two", Reporter())
    assert plan == TokenPlan(NAME, "new-version", arn)
    assert store(secrets(), plan, "ghp_two", "octo/app", Reporter()) == arn
    client = boto3.client("secretsmanager")
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "ghp_two"
    versions = client.list_secret_version_ids(SecretId=arn)["Versions"]
    assert len(versions) == 2


def test_a_secret_scheduled_for_deletion_is_restored(moto_env: str) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name=NAME, SecretString="ghp_old")["ARN"]
    client.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    plan = inspect(secrets(), NAME, "ghp_new", Reporter())
    assert plan == TokenPlan(NAME, "restore", arn)
    assert store(secrets(), plan, "ghp_new", "octo/app", Reporter()) == arn
    assert "DeletedDate" not in client.describe_secret(SecretId=arn)
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "ghp_new"


def test_a_stale_create_plan_meets_moto_resource_exists_and_restores(moto_env: str) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name=NAME, SecretString="ghp_old")["ARN"]
    client.delete_secret(SecretId=arn, RecoveryWindowInDays=7)  # deleted after the plan was made
    assert store(secrets(), TokenPlan(NAME, "create"), "ghp_new", "octo/app", Reporter()) == arn
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "ghp_new"


def test_aws_invalid_request_for_a_scheduled_secret_means_it_exists() -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(client) as stub:
        message = ("You can't create this secret because a secret with this name is already scheduled for "
                   "deletion.")
        stub.add_client_error("create_secret", service_error_code="InvalidRequestException",
                              service_message=message)
        with pytest.raises(SecretExists):
            Secrets(client).create(NAME, "ghp", description="d", tags={})


def test_other_invalid_requests_are_not_mistaken_for_existence() -> None:
    from abca_deploy.errors import AbcaError

    client = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("create_secret", service_error_code="InvalidRequestException",
                              service_message="Something else.")
        with pytest.raises(AbcaError, match="CreateSecret"):
            Secrets(client).create(NAME, "ghp", description="d", tags={})


def test_the_stored_value_is_masked_when_read(moto_env: str) -> None:
    boto3.client("secretsmanager").create_secret(Name=NAME, SecretString="ghp_stored_old")
    reporter = Reporter()
    inspect(secrets(), NAME, "ghp_new", reporter)
    assert reporter.redact("ghp_stored_old") == "***"
