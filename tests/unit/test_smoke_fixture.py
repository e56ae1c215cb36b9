from __future__ import annotations

import boto3


def test_moto_env_serves_dynamodb(moto_env: str) -> None:
    ddb = boto3.client("dynamodb")
    ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "repo", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "repo", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    assert ddb.list_tables()["TableNames"] == ["t"]
