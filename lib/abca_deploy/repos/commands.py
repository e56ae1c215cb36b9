"""The ``repo`` commands the CLI registry points at. Heavy imports (boto3, PyGithub) happen inside ``run``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.repos.options import (
    ListSettings,
    OffboardSettings,
    OnboardSettings,
    ShowSettings,
    SyncSettings,
    UpdateSettings,
)
from abca_deploy.settings import Command

if TYPE_CHECKING:
    from abca_deploy.report import Reporter


def _show(settings: ShowSettings, reporter: Reporter) -> int:
    if settings.api_url:
        from abca_deploy.repos.via_api import run_remote_show

        return run_remote_show(settings, reporter)
    from abca_deploy.repos import render
    from abca_deploy.repos.target import resolve

    row = resolve(settings).table.get(settings.repo)
    if row is None:
        msg = f"{settings.repo} is not in the repo table."
        raise UserError(msg, hint="See `abca-deploy repo list`.", title="Repository not onboarded")
    reporter.result({"repo": render.row_document(row)}, render.row_text(row))
    return 0


def _list(settings: ListSettings, reporter: Reporter) -> int:
    if settings.api_url:
        from abca_deploy.repos.via_api import run_remote_list

        return run_remote_list(settings, reporter)
    from abca_deploy.repos import render
    from abca_deploy.repos.target import resolve

    rows = sorted(resolve(settings).table.scan(), key=lambda r: r.repo)
    if settings.status:
        rows = [r for r in rows if r.status == settings.status]
    reporter.result({"repos": [render.row_document(r) for r in rows]}, render.rows_text(rows))
    return 0


def _write(settings: OnboardSettings | UpdateSettings | OffboardSettings, reporter: Reporter) -> int:
    from abca_deploy.repos.single import run_write

    return run_write(settings, reporter)


def _sync(settings: SyncSettings, reporter: Reporter) -> int:
    from abca_deploy.repos.sync import run_sync

    return run_sync(settings, reporter)


ONBOARD = Command(OnboardSettings, _write, "Onboard a repository (or re-activate a removed one).", ("repo",))
UPDATE = Command(UpdateSettings, _write, "Change the given fields of an onboarded repository.", ("repo",))
SHOW = Command(ShowSettings, _show, "Show one repository's row.", ("repo",))
LIST = Command(ListSettings, _list, "List repositories.")
OFFBOARD = Command(OffboardSettings, _write, "Soft-delete a repository (status removed, 30-day TTL).",
                   ("repo",))
SYNC = Command(SyncSettings, _sync, "Make the table match a repos.yaml file.")
