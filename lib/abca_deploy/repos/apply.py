"""Apply planned changes: one row, re-planned on conflict; or many, in batches run by parallel workers."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from abca_deploy.repos.errors import KeptChanging
from abca_deploy.repos.table import WriteConflict
from abca_deploy.repos.writes import build

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import RepoRow
    from abca_deploy.repos.table import RepoTable

    Replan = Callable[[RepoRow | None], Change]

ATTEMPTS = 10
BATCH_SIZE = 25
WORKERS = 8


def _pause(attempt: int) -> None:
    # Full jitter: concurrent writers that conflicted spread out instead of colliding again.
    time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))


def apply_one(table: RepoTable, change: Change, replan: Replan) -> tuple[Change, RepoRow | None]:
    """Write ``change``; if the row changed meanwhile, re-read, re-plan, retry. Returns what was applied."""
    for attempt in range(ATTEMPTS):
        if not change.changed:
            return change, change.current
        try:
            written = table.write(build(change))
        except WriteConflict:
            _pause(attempt)
            change = replan(table.get(change.repo))
            continue
        return change, written or change.target
    msg = f"{change.repo} kept changing while this command tried to update it ({ATTEMPTS} attempts)."
    raise KeptChanging(msg, hint="Re-run the command.", title="Concurrent updates")


def apply_many(table: RepoTable, changes: Sequence[Change], replan_for: Callable[[str], Replan], *,
               workers: int = WORKERS, batch_size: int = BATCH_SIZE) -> list[Change]:
    """Apply every change that writes: batches of conditional writes, run by parallel workers.

    Each row is one conditional write, re-planned on conflict, so a row changed by someone else meanwhile is
    neither overwritten blindly nor lost. (No transactions: a row never depends on another, and one conflict
    would otherwise cancel and retry its whole batch.) Returns the changes as applied, in the input order.
    """
    pending = [c for c in changes if c.changed]
    batches = [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]

    def run(batch: list[Change]) -> list[Change]:
        return [apply_one(table, c, replan_for(c.repo))[0] for c in batch]

    applied: dict[str, Change] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done in pool.map(run, batches):
            applied.update((c.repo, c) for c in done)
    return [applied.get(c.repo, c) for c in changes]
