"""The OpenAPI document is valid OpenAPI 3.1 and says what the code does: the same routes, the table's
attributes with their DynamoDB kinds, and the same ranges the validators enforce."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.support.openapi_contract import METHODS, Contract

from abca_deploy.api.routes import ROUTES
from abca_deploy.repos import validate as v
from abca_deploy.repos.schema import ATTRIBUTES, BY_NAME, SETTABLE

CONTRACT = Contract()
FIELDS: dict[str, Any] = CONTRACT.doc["components"]["schemas"]["RepoFields"]["properties"]


def _schema(name: str) -> dict[str, Any]:
    node = FIELDS[name]
    while "$ref" in node:
        node = CONTRACT.node(node["$ref"].removeprefix("#"))
    return dict(node)


def test_the_document_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import validate

    validate(CONTRACT.doc)
    assert CONTRACT.doc["openapi"] == "3.1.0"


def test_every_route_the_handler_serves_is_documented_and_back() -> None:
    documented = {
        (method.upper(), path)
        for path, item in CONTRACT.doc["paths"].items()
        for method in item
        if method in METHODS
    }
    assert documented == set(ROUTES)


def test_the_fields_are_the_tables_settable_attributes_with_their_kinds() -> None:
    assert set(FIELDS) == {a.name for a in SETTABLE} | {"github_token"}
    kinds = {"S": "string", "L": "array"}
    for attr in SETTABLE:
        expected = ("integer" if attr.integer else "number") if attr.kind == "N" else kinds[attr.kind]
        assert _schema(attr.name)["type"] == [expected, "null"], attr.name
    shown = CONTRACT.doc["components"]["schemas"]["Repo"]["properties"]
    assert set(shown) == set(ATTRIBUTES)
    assert _schema("compute_type")["enum"] == [*v.COMPUTE_TYPES, None]


@pytest.mark.parametrize("name", [a.name for a in SETTABLE if a.kind == "N"])
def test_documented_ranges_are_the_validators_ranges(name: str) -> None:
    schema = _schema(name)
    step = 1 if BY_NAME[name].integer else Decimal("0.001")
    low, high = schema["minimum"], schema["maximum"]
    for ok in (low, high):
        v.check_field(name, str(ok))
    for bad in (Decimal(str(low)) - step, Decimal(str(high)) + step):
        with pytest.raises(ValueError, match="out of range"):
            v.check_field(name, str(bad))


def test_request_schemas_take_what_the_handler_takes_and_nothing_else() -> None:
    post = CONTRACT.request_schema("POST", "/repos")
    patch = CONTRACT.request_schema("PATCH", "/repos/{repo_id}")
    good = {"repo": "octo/app", "max_turns": 5, "egress_allowlist": ["pypi.org"], "github_token": "ghp_x"}
    assert list(post.iter_errors(good)) == []
    assert list(post.iter_errors({**good, "colour": "blue"}))
    assert list(post.iter_errors({"max_turns": 5}))  # repo is required
    assert list(patch.iter_errors({"max_turns": None, "skills": None})) == []
    assert list(patch.iter_errors({"repo": "octo/app"}))
