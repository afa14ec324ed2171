"""A restarted engine frees at once what its killed predecessor leased; live and remote holders keep it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from emporion.engine.recovery import dead_local_workers, release_dead_workers
from emporion.state import StateStore


def dead_pid() -> int:
    """The id of a process that has just exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_this_hosts_gone_processes_count_as_dead() -> None:
    host, gone = socket.gethostname(), dead_pid()
    owners = {f"{host}:{gone}", f"{host}:{os.getpid()}", f"elsewhere:{gone}", "inbox-test", f"{host}:x"}
    assert dead_local_workers(owners) == [f"{host}:{gone}"]


async def test_a_killed_workers_work_deliveries_and_claims_are_free_again_at_once(store: StateStore) -> None:
    host = socket.gethostname()
    killed, alive, remote = f"{host}:{dead_pid()}", f"{host}:{os.getpid()}", "other-machine:1"
    await store.enqueue("catalogue", "product", ["p1", "p2", "p3"], reason="change")
    held_by = {}
    for worker in (killed, alive, remote):
        [claimed] = await store.claim("catalogue", "product", worker=worker, limit=1, lease_seconds=120)
        held_by[worker] = claimed.key
    assert await store.inbox_add("shop", "d1", "order.created", {}, b"{}")
    assert len(await store.inbox_claim(worker=killed, lease_seconds=120)) == 1
    assert await store.claim_link("orders", "customer", "a@example.com", owner=killed) is None
    assert await store.claim_link("orders", "customer", "b@example.com", owner=alive) is None
    # before: everything is held, nothing can be claimed by the new process
    assert await store.claim("catalogue", "product", worker="new", limit=10) == []
    assert await store.inbox_claim(worker="new") == []
    assert {killed, alive, remote} <= await store.lease_holders()

    assert await release_dead_workers(store) == 3  # one work item, one delivery, one claim

    [item] = await store.claim("catalogue", "product", worker="new", limit=10)
    assert item.key == held_by[killed]
    assert [d.delivery_id for d in await store.inbox_claim(worker="new")] == ["d1"]
    assert await store.claim_link("orders", "customer", "a@example.com", owner="new") is None
    held = await store.claim_link("orders", "customer", "b@example.com", owner="new")
    assert held is not None and held.state == "pending"  # the live worker keeps its claim
    assert killed not in await store.lease_holders()
