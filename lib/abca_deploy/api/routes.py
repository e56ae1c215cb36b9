"""The five operations of ``/v1/repos``: list, show, onboard, update, offboard.

Each authorizes the caller, parses the request, and hands plain values to the repos core
(``repos.operations``, the code behind ``abca-deploy repo``). Write answers are the CLI's ``--output json``
result; every single-row answer carries the row's ``ETag``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from abca_deploy.api import auth, body
from abca_deploy.api.responses import ApiError, paginated, success
from abca_deploy.api.versions import after_repo, etag, matches, page_token
from abca_deploy.repos import operations, render
from abca_deploy.repos.table import WriteConflict
from abca_deploy.repos.validate import FORMS

if TYPE_CHECKING:
    from abca_deploy.api.app import App, Request, Route
    from abca_deploy.api.responses import Response
    from abca_deploy.repos.operations import Kind, NewToken, Written
    from abca_deploy.repos.schema import RepoRow

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
STATUSES = ("active", "removed")
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _caller(app: App, request: Request, *, write: bool) -> auth.Caller:
    caller = auth.authorize(auth.caller_of(request.event), write=write, admin_group=app.settings.admin_group)
    request.principal = caller.principal
    return caller


def _repo_id(request: Request) -> str:
    """The path's ``{repo_id}``: ``owner%2Frepo`` (decoded once more if API Gateway left it encoded)."""
    raw = request.path_parameter("repo_id") or ""
    request.repo = body.repo_name(unquote(raw), where="repo_id")
    return request.repo


def _invalid(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


def _limit(request: Request) -> int:
    raw = request.query("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        msg = f"limit: must be an integer (got {raw[:20]!r}); allowed: 1-{MAX_LIMIT}."
        raise _invalid(msg)
    return int(raw)


def _dry_run(request: Request) -> bool:
    raw = request.query("dry_run")
    if raw is None:
        return False
    if raw.lower() not in BOOLEANS:
        msg = f"dry_run: is not a boolean (got {raw[:20]!r}); allowed: true or false."
        raise _invalid(msg)
    return BOOLEANS[raw.lower()]


def _one(row: RepoRow, request_id: str) -> Response:
    return success(200, render.row_document(row), request_id, {"ETag": etag(row)})


def list_repos(app: App, request: Request) -> Response:
    """``GET /repos``: a page of rows (``?limit``, ``?next_token``, ``?status``)."""
    _caller(app, request, write=False)
    status = request.query("status")
    if status is not None and status not in STATUSES:
        msg = f"status: is not a status (got {status[:20]!r}); allowed: active or removed."
        raise _invalid(msg)
    limit, after = _limit(request), after_repo(request.query("next_token"))
    rows, last = app.platform.table.page(limit, after, status)
    return paginated([render.row_document(row) for row in rows], page_token(last), request.request_id)


def get_repo(app: App, request: Request) -> Response:
    """``GET /repos/{repo_id}``: one row."""
    _caller(app, request, write=False)
    repo = _repo_id(request)
    row = app.platform.table.get(repo)
    if row is None:
        raise ApiError(404, "REPO_NOT_FOUND", f"{repo} is not in the repo table.")
    return _one(row, request.request_id)


def create_repo(app: App, request: Request) -> Response:
    """``POST /repos``: onboard (or re-activate) a repository."""
    _caller(app, request, write=True)
    document = body.json_object(request.event)
    if "repo" not in document:
        msg = f"repo: is required; allowed: {FORMS['repo']}."
        raise _invalid(msg)
    request.repo = body.repo_name(document["repo"])
    fields = body.parse_fields(document, partial=False,
                               ignore=("repo",))
    return _write(app, request, "onboard", fields)


def update_repo(app: App, request: Request) -> Response:
    """``PATCH /repos/{repo_id}``: set the fields sent, remove those sent as null."""
    _caller(app, request, write=True)
    _repo_id(request)
    document = body.json_object(request.event)
    if "repo" in document:
        msg = "repo: is named by the path; leave it out of the body."
        raise _invalid(msg)
    fields = body.parse_fields(document, partial=True)
    return _write(app, request, "update", fields)


def offboard_repo(app: App, request: Request) -> Response:
    """``DELETE /repos/{repo_id}``: soft delete (status removed, ttl in 30 days)."""
    _caller(app, request, write=True)
    _repo_id(request)
    return _write(app, request, "offboard", body.Fields({}))


def _write(app: App, request: Request, kind: Kind, fields: body.Fields) -> Response:
    assert request.repo is not None
    repo = request.repo
    intent = operations.Intent(kind, repo, MappingProxyType(fields.wanted), fields.unset)
    operations.check_intent(intent, app.limits)
    dry_run = _dry_run(request)
    token = _token(app, request, fields.token) if fields.token is not None else None
    if_match = request.header("If-Match")
    expect = None if if_match is None else _expect(if_match)
    from abca_deploy.repos.target import now

    try:
        written = operations.write(app.platform, intent, app.limits, token=token, masker=request.redactor,
                                   dry_run=dry_run, when=now(), expect=expect, domains=app.domains)
    except WriteConflict:
        raise ApiError(412, "PRECONDITION_FAILED", f"{repo} changed after the version in If-Match was read; "
                                                   "GET it again and retry.") from None
    return _written(app, request, kind, written, dry_run)


def _expect(if_match: str) -> Any:
    def check(row: RepoRow | None) -> None:
        if row is not None and not matches(if_match, row):
            raise ApiError(412, "PRECONDITION_FAILED", f"{row.repo} is no longer at the version in If-Match "
                                                       f"(it is now {etag(row)}); GET it again and retry.")

    return check


def _token(app: App, request: Request, value: str) -> NewToken:
    """The token, checked on GitHub (422 if it cannot push, 503 if GitHub cannot be asked), and its plan."""

    from abca_deploy.errors import OperationFailed, UserError
    from abca_deploy.github import api_root
    from abca_deploy.repos.errors import Refused
    from abca_deploy.repos.tokens import ACCESS_GUARDRAIL

    assert request.repo is not None
    request.redactor.mask(value)
    api_url = api_root(app.settings.github_api_url)
    try:
        operations.check_token_access(request.repo, value, api_url, request.redactor)
    except Refused:
        raise
    except UserError as err:  # GitHub rejected the token itself (401 Bad credentials)
        raise Refused(ACCESS_GUARDRAIL, f"github_token: {err.message}") from None
    except OperationFailed:
        msg = f"GitHub could not be asked whether the token can push to {request.repo}; retry later."
        raise ApiError(503, "SERVICE_UNAVAILABLE", msg) from None
    return operations.plan_token(request.repo, value, app.secrets, request.redactor)


def _written(app: App, request: Request, kind: Kind, written: Written, dry_run: bool) -> Response:
    change, row = written.change, written.row
    created = kind == "onboard" and change.action in ("create", "reactivate") and not dry_run
    headers: dict[str, str] = {}
    if row is not None and not dry_run:
        headers["ETag"] = etag(row)
    if created:
        stage = ((request.event.get("requestContext") or {}).get("stage") or "").strip("/")
        headers["Location"] = f"{'/' + stage if stage else ''}/repos/{quote(change.repo, safe='')}"
    from abca_deploy.repos.target import notes

    data = render.write_document(written, row, notes(change, app.platform.outputs), dry_run=dry_run)
    if written.egress is not None and written.egress.error is not None:
        msg = (f"{change.repo} was written, but the stack's DNS Firewall domain list was not brought up to "
               "date; repeat the request: it writes nothing already there and completes the list.")
        raise ApiError(503, "SERVICE_UNAVAILABLE", msg, {"Retry-After": "5"})
    return success(201 if created else 200, data, request.request_id, headers)


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/repos"): list_repos,
    ("POST", "/repos"): create_repo,
    ("GET", "/repos/{repo_id}"): get_repo,
    ("PATCH", "/repos/{repo_id}"): update_repo,
    ("DELETE", "/repos/{repo_id}"): offboard_repo,
}
