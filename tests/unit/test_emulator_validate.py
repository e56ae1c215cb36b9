"""The emulator checks requests against the botocore model like AWS does, patterns included."""

from __future__ import annotations

from typing import Any

import pytest

from abca_deploy.sandbox.emulator import routes
from abca_deploy.sandbox.emulator.errors import ApiError
from abca_deploy.sandbox.emulator.validate import check

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
ROLE = "arn:aws:iam::123456789012:role/runtime"
DIGEST = "sha256:" + "a" * 64


def create_shape() -> Any:
    return routes.service_model(routes.CONTROL).operation_model("CreateAgentRuntime").input_shape


def create_request(uri: str = f"{ECR}:v1", **extra: Any) -> dict[str, Any]:
    return {"agentRuntimeName": "demo", "roleArn": ROLE,
            "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": uri}}, **extra}


def rejected(shape: Any, params: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        check(shape, params)
    assert (caught.value.code, caught.value.status) == ("ValidationException", 400)
    return caught.value


@pytest.mark.parametrize("uri", [f"{ECR}:v1", f"{ECR}@{DIGEST}", f"{ECR}:v1@{DIGEST}", ECR,
                                 "public.ecr.aws/abca/agent:latest",
                                 "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a/b/c:1"])
def test_ecr_and_public_ecr_uris_pass(uri: str) -> None:
    check(create_shape(), create_request(uri))


@pytest.mark.parametrize("uri", ["docker.io/library/python:3", "127.0.0.1:5000/abca/agent:v1",
                                 f"localhost/{ECR}:v1", f"{ECR}/UPPER:v1",
                                 "12345.dkr.ecr.us-east-1.amazonaws.com/a:1"])
def test_other_uris_fail_the_whole_value_pattern(uri: str) -> None:
    error = rejected(create_shape(), create_request(uri))
    path = "agentRuntimeArtifact.containerConfiguration.containerUri"
    assert error.message.startswith(f"1 validation error detected: Value '{uri}' at '{path}' failed to "
                                    "satisfy constraint: Member must satisfy regular expression pattern: ")
    assert error.body()["fieldList"][0]["name"] == path
    assert error.body()["reason"] == "FieldValidationFailed"


def test_every_problem_is_listed_with_awss_wording() -> None:
    params = create_request(description="", networkConfiguration={"networkMode": "LOCAL"},
                            lifecycleConfiguration={"idleRuntimeSessionTimeout": 30})
    del params["roleArn"]
    error = rejected(create_shape(), params)
    assert error.message.startswith("4 validation errors detected: ")
    assert [f["name"] for f in error.body()["fieldList"]] == [
        "roleArn", "description", "networkConfiguration.networkMode",
        "lifecycleConfiguration.idleRuntimeSessionTimeout"]
    assert "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in error.message
    assert "Member must satisfy enum value set: [PUBLIC, VPC]" in error.message
    assert "Member must have value greater than or equal to 60" in error.message


def test_sensitive_values_are_not_echoed() -> None:
    error = rejected(create_shape(), create_request(environmentVariables={"AGENT_TOKEN": "s" * 5001}))
    assert "Value '***' at 'environmentVariables[AGENT_TOKEN]'" in error.message
    assert "sss" not in error.message


def test_unions_need_exactly_one_member_and_types_are_checked() -> None:
    error = rejected(create_shape(), create_request() | {"agentRuntimeArtifact": {}})
    assert "Member must set exactly one of: containerConfiguration, codeConfiguration" in error.message
    storage = [{"sessionStorage": {"mountPath": 5}}]
    error = rejected(create_shape(), create_request(filesystemConfigurations=storage))
    assert "at 'filesystemConfigurations[0].sessionStorage.mountPath'" in error.message
    assert "Member must be of type string" in error.message


def test_query_integers_are_parsed_and_ranged() -> None:
    route, labels = routes.find("POST", "/runtimes/demo-abcdefghij/versions/")
    params = routes.parse_input(route, labels, "maxResults=101", {}, b"")
    assert params == {"agentRuntimeId": "demo-abcdefghij", "maxResults": 101}
    assert "less than or equal to 100" in rejected(route.model.input_shape, params).message
    with pytest.raises(ApiError, match="Member must be an integer"):
        routes.parse_input(route, labels, "maxResults=ten", {}, b"")


def test_routes_tell_the_planes_apart_and_decode_the_arn() -> None:
    arn = "arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fdemo-abcdefghij"
    route, labels = routes.find("POST", f"/runtimes/{arn}/invocations?qualifier=prod")
    assert (route.service, route.name) == (routes.DATA, "InvokeAgentRuntime")
    assert labels == {
        "agentRuntimeArn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/demo-abcdefghij"}
    assert routes.find("POST", "/runtimes/")[0].name == "ListAgentRuntimes"
    assert routes.find("PUT", "/runtimes/")[0].name == "CreateAgentRuntime"
    assert routes.find("PUT", "/runtimes/x-abcdefghij/runtime-endpoints/prod/")[0].name == (
        "UpdateAgentRuntimeEndpoint")
    with pytest.raises(ApiError) as caught:
        routes.find("GET", "/gateways/")
    assert (caught.value.code, caught.value.status) == ("UnknownOperationException", 404)
