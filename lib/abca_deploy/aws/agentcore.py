"""Bedrock AgentCore adapters: the control plane (runtimes, versions, endpoints) and data plane (invoke)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.aws.errors import aws_call, error_code
from abca_deploy.aws.invocation import ErrorAnswer, Invocation, Origin, event_stream_text, read_error
from abca_deploy.errors import UserError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class Conflict(Exception):
    """UpdateAgentRuntime was refused because another update is in flight (ConflictException)."""


def _strip_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _unknown_runtime(runtime_id: str, version: str | None) -> UserError:
    what = f"version {version} of runtime {runtime_id!r}" if version else f"runtime {runtime_id!r}"
    return UserError(
        f"AgentCore has no {what} in this account and region.",
        hint="Check --runtime-id/--runtime-arn/--stack-name and --region.",
        title="Unknown runtime",
    )


class AgentCoreControl:
    """``bedrock-agentcore-control``: read and update runtimes and endpoints."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    def get_runtime(self, runtime_id: str, version: str | None = None) -> dict[str, Any]:
        """GetAgentRuntime (latest, or one version); an unknown runtime is a UserError."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"agentRuntimeId": runtime_id}
        if version:
            kwargs["agentRuntimeVersion"] = version
        self.calls += 1
        with aws_call("bedrock-agentcore:GetAgentRuntime", runtime_id):
            try:
                return _strip_metadata(self._client.get_agent_runtime(**kwargs))
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    raise _unknown_runtime(runtime_id, version) from None
                raise

    def update_runtime(self, runtime_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateAgentRuntime with the full request; raises ``Conflict`` when an update is in flight."""
        from botocore.exceptions import ClientError

        self.calls += 1
        with aws_call("bedrock-agentcore:UpdateAgentRuntime", runtime_id):
            try:
                return _strip_metadata(
                    self._client.update_agent_runtime(agentRuntimeId=runtime_id, **request)
                )
            except ClientError as exc:
                if error_code(exc) == "ConflictException":
                    raise Conflict(str(exc)) from None
                raise

    def list_versions(self, runtime_id: str) -> list[dict[str, Any]]:
        """ListAgentRuntimeVersions, all pages."""
        return self._all_pages("ListAgentRuntimeVersions", "agentRuntimes", runtime_id,
                               self._client.list_agent_runtime_versions)

    def list_endpoints(self, runtime_id: str) -> list[dict[str, Any]]:
        """ListAgentRuntimeEndpoints, all pages."""
        return self._all_pages("ListAgentRuntimeEndpoints", "runtimeEndpoints", runtime_id,
                               self._client.list_agent_runtime_endpoints)

    def _all_pages(self, operation: str, key: str, runtime_id: str, method: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"agentRuntimeId": runtime_id, "maxResults": 100}
        while True:
            self.calls += 1
            with aws_call(f"bedrock-agentcore:{operation}", runtime_id):
                page = method(**kwargs)
            items += page.get(key, [])
            if not page.get("nextToken"):
                return items
            kwargs["nextToken"] = page["nextToken"]

    def get_endpoint(self, runtime_id: str, name: str) -> dict[str, Any] | None:
        """GetAgentRuntimeEndpoint, or None when it does not exist."""
        from botocore.exceptions import ClientError

        self.calls += 1
        with aws_call("bedrock-agentcore:GetAgentRuntimeEndpoint", f"{runtime_id}/{name}"):
            try:
                return _strip_metadata(
                    self._client.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName=name)
                )
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return None
                raise

    def point_endpoint(self, runtime_id: str, name: str, version: str, *, create: bool) -> dict[str, Any]:
        """Create the endpoint at ``version``, or move it there (UpdateAgentRuntimeEndpoint)."""
        self.calls += 1
        if create:
            with aws_call("bedrock-agentcore:CreateAgentRuntimeEndpoint", f"{runtime_id}/{name}"):
                return _strip_metadata(
                    self._client.create_agent_runtime_endpoint(
                        agentRuntimeId=runtime_id, name=name, agentRuntimeVersion=version
                    )
                )
        with aws_call("bedrock-agentcore:UpdateAgentRuntimeEndpoint", f"{runtime_id}/{name}"):
            return _strip_metadata(
                self._client.update_agent_runtime_endpoint(
                    agentRuntimeId=runtime_id, endpointName=name, agentRuntimeVersion=version
                )
            )


class AgentCoreData:
    """``bedrock-agentcore``: InvokeAgentRuntime (reading the container's status from either error form) and
    StopRuntimeSession."""

    def __init__(self, client: Any | Callable[[], Any]) -> None:
        self._client_or_factory = client
        self._made: Any = None
        self._error_answers: list[tuple[dict[str, str], bytes]] = []
        self.calls = 0

    @property
    def _client(self) -> Any:
        """The boto3 client, made on first use (a publish that changes nothing never invokes)."""
        if self._made is None:
            made = self._client_or_factory
            self._made = made() if callable(made) else made
            self._made.meta.events.register("after-call.bedrock-agentcore.InvokeAgentRuntime",
                                            self._keep_error_answer)
        return self._made

    def _keep_error_answer(self, http_response: Any = None, **_: Any) -> None:
        # botocore keeps only the parsed error; the raw body and headers say whether the container answered.
        if http_response is not None and http_response.status_code >= 300:
            headers = {k.lower(): str(v) for k, v in (http_response.headers or {}).items()}
            self._error_answers.append((headers, http_response.content or b""))

    def invoke(
        self,
        runtime_arn: str,
        payload: bytes,
        *,
        qualifier: str | None,
        session_id: str,
        accept: str = "application/json, text/event-stream",
    ) -> Invocation:
        """Invoke the runtime; error answers come back as an Invocation (see ``invocation.read_error``)."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "agentRuntimeArn": runtime_arn,
            "payload": payload,
            "runtimeSessionId": session_id,
            "contentType": "application/json",
            "accept": accept,
        }
        if qualifier:
            kwargs["qualifier"] = qualifier
        client = self._client
        self._error_answers.clear()
        self.calls += 1
        try:
            response = client.invoke_agent_runtime(**kwargs)
        except ClientError as exc:
            return read_error(self._error_answer(exc), self._modelled_errors())
        except BotoCoreError as exc:  # no answer (connection reset, read timeout): transient
            return Invocation(0, "", str(exc), Origin.NONE)
        content_type = str(response.get("contentType", ""))
        stream = response["response"]
        if "text/event-stream" in content_type:
            body = event_stream_text(stream.iter_lines())
        else:
            body = stream.read().decode("utf-8", "replace")
        return Invocation(int(response.get("statusCode", 200)), content_type, body)

    def _error_answer(self, exc: Any) -> ErrorAnswer:
        meta = exc.response.get("ResponseMetadata", {})
        error = exc.response.get("Error", {})
        headers, raw = self._error_answers[-1] if self._error_answers else ({}, b"")
        headers = headers or {k.lower(): str(v) for k, v in meta.get("HTTPHeaders", {}).items()}
        return ErrorAnswer(status=int(meta.get("HTTPStatusCode", 0)), code=str(error.get("Code", "")),
                           message=str(error.get("Message", "")) or str(exc), body=raw,
                           content_type=headers.get("content-type", ""), typed="x-amzn-errortype" in headers)

    def _modelled_errors(self) -> frozenset[str]:
        """InvokeAgentRuntime's own error codes, from the client's service model."""
        operation = self._client.meta.service_model.operation_model("InvokeAgentRuntime")
        return frozenset(shape.name for shape in operation.error_shapes)

    def stop_session(self, runtime_arn: str, session_id: str, *, qualifier: str | None) -> bool:
        """StopRuntimeSession: True when stopped, False when AgentCore no longer had the session
        (ResourceNotFoundException); any other failure raises a translated AbcaError."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"agentRuntimeArn": runtime_arn, "runtimeSessionId": session_id}
        if qualifier:
            kwargs["qualifier"] = qualifier
        self.calls += 1
        with aws_call("bedrock-agentcore:StopRuntimeSession", runtime_arn):
            try:
                self._client.stop_runtime_session(**kwargs)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return False
                raise
        return True
