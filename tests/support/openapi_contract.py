"""The repository API's OpenAPI 3.1 document as a test oracle: is this answer one the contract allows?"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from typing import Any

import yaml

METHODS = ("get", "post", "patch", "delete")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Contract:
    """``check(method, path_template, status, headers, body)`` raises AssertionError when the answer breaks
    the document: an undeclared status, a missing declared header, or a body its schema does not allow."""

    @cached_property
    def doc(self) -> dict[str, Any]:
        """The parsed document (package data of abca_deploy.api)."""
        text = resources.files("abca_deploy.api").joinpath("openapi.yaml").read_text(encoding="utf-8")
        loaded: dict[str, Any] = yaml.safe_load(text)
        return loaded

    def node(self, pointer: str) -> Any:
        """The node at a JSON pointer (``/paths/...``)."""
        node: Any = self.doc
        for token in pointer.strip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def response_pointer(self, method: str, template: str, status: int) -> str:
        """Where the declared response for ``status`` is (following a ``$ref``)."""
        operation = self.doc["paths"][template][method.lower()]
        assert str(status) in operation["responses"], (
            f"{method} {template} answered {status}, which the contract does not declare "
            f"(declared: {', '.join(operation['responses'])})")
        pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        node = self.node(pointer)
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.node(pointer)
        return pointer

    def check(self, method: str, template: str, status: int, headers: dict[str, str], body: Any) -> None:
        """Assert the answer is one the contract allows."""
        from openapi_schema_validator import OAS31Validator

        pointer = self.response_pointer(method, template, status)
        declared = self.node(pointer)
        lowered = {k.lower() for k in headers}
        for name, header in declared.get("headers", {}).items():
            while "$ref" in header:
                header = self.node(header["$ref"].removeprefix("#"))
            if header.get("required"):
                assert name.lower() in lowered, f"{method} {template} {status}: missing header {name}"
        schema_pointer = f"#{pointer}/content/application~1json/schema"
        validator = OAS31Validator({**self.doc, "$ref": schema_pointer})
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{method} {template} {status}: {errors[0].message} at {list(errors[0].path)}"

    def request_schema(self, method: str, template: str) -> Any:
        """A validator for the operation's request body."""
        from openapi_schema_validator import OAS31Validator

        pointer = f"#/paths/{_escape(template)}/{method.lower()}/requestBody/content/application~1json/schema"
        return OAS31Validator({**self.doc, "$ref": pointer})
