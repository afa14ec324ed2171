"""A latency model of a real WooCommerce host: PHP workers sharing a fixed CPU, per-item costs, WP-Cron.

Calibrated on WooCommerce 10.0.2 (tests/data/woocommerce-10.0.2/timing.json): a batch of 100 creates
takes ~5.4 s alone (53 ms per product), four such batches at once take ~18 s each and finish together
(no more throughput, only latency), updates cost ~28 ms per item and every request pays WordPress'
bootstrap. A request holds one of a few workers; requests beyond them wait. Working requests share the
CPU (processor sharing): each runs at most at the speed of one request alone, all together at most at
`cpu` times that. Product creates start background jobs (WP-Cron) that hold a worker and a CPU share.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PROFILES = ("wc10",)


@dataclass
class LatencyModel:
    """The model's parameters (milliseconds of work at the speed of one request alone)."""

    # PHP_CLI_SERVER_WORKERS=4 serves five requests at once: the server's first process takes requests
    # too (measured on the real shop: five parallel 2 s requests end in 2.09 s, six in 4.01 s)
    workers: int = 5
    cpu: float = 1.2  # 4 x 100 creates: 4 x 5.4 s of work in ~18 s
    read_request_ms: float = 45.0  # a GET: WordPress bootstrap, auth, query
    write_request_ms: float = 100.0  # a POST/PUT/DELETE or batch: bootstrap, hooks, cache flushes
    read_item_ms: float = 10.0  # each record rendered in a GET answer
    create_ms: float = 53.0  # per created product or variation (p50 of the recording)
    update_ms: float = 28.0
    delete_ms: float = 30.0
    jitter: float = 0.15  # each request's costs times uniform(1 - jitter, 1 + jitter)
    item_jitter: float = 0.5  # each batch item's cost times uniform(1 - item_jitter, 1 + item_jitter)
    background_s: float = 30.0  # a WP-Cron run after product creates holds a worker this long
    background_every_s: float = 60.0  # at most one background run started per this many seconds
    background_cpu: float = 0.25  # the CPU share a background run takes, against 1 for a request
    scale: float = 1.0  # cost factor: 3 = a host three times slower
    time_scale: float = 1.0  # wall seconds per model second: 0.01 runs the model 100 times faster
    seed: int | None = 0
    name: str = "wc10"

    @classmethod
    def named(cls, name: str, **overrides: Any) -> LatencyModel:
        """A named model ("wc10": WooCommerce 10.0.2 on 2 cores, 4 + 1 PHP workers) with overrides."""
        if name not in PROFILES:
            raise ValueError(f"unknown latency profile {name!r}; known: {', '.join(PROFILES)}")
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown latency settings: {sorted(unknown)}")
        return cls(**overrides, name=name)

    def item_ms(self, action: str) -> float:
        """The work of one item of an action: create, update, delete or read."""
        return {
            "create": self.create_ms,
            "update": self.update_ms,
            "delete": self.delete_ms,
            "read": self.read_item_ms,
        }[action]

    def describe(self) -> dict[str, Any]:
        """The parameters as JSON-ready values."""
        return asdict(self)


@dataclass
class CpuShare:
    """Processor sharing on a clock given by the caller: jobs with remaining work, weights, rates."""

    capacity: float
    jobs: dict[int, list[float]] = field(default_factory=dict)  # id -> [remaining seconds, weight]
    loads: dict[int, float] = field(default_factory=dict)  # id -> weight of holders without work
    last: float = 0.0

    def speed(self) -> float:
        """The rate of a weight-1 job now: 1 alone, less once the weights exceed the capacity."""
        total = sum(weight for _, weight in self.jobs.values()) + sum(self.loads.values())
        return min(1.0, self.capacity / total) if total > 0 else 1.0

    def advance(self, now: float) -> list[int]:
        """Move the clock to `now`; the ids of the jobs that have finished."""
        elapsed = max(0.0, now - self.last)
        self.last = max(self.last, now)
        if elapsed and self.jobs:
            speed = self.speed()
            for job in self.jobs.values():
                job[0] -= elapsed * speed * job[1]
        done = [job_id for job_id, (remaining, _) in self.jobs.items() if remaining <= 1e-9]
        for job_id in done:
            del self.jobs[job_id]
        return done

    def next_finish(self) -> float | None:
        """When the next job finishes if nothing changes (None without jobs)."""
        if not self.jobs:
            return None
        speed = self.speed()
        return self.last + min(remaining / (speed * weight) for remaining, weight in self.jobs.values())


def simulate(model: LatencyModel, requests: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (start, end) in model seconds of requests given as (arrival, work seconds), no background.

    The same arithmetic as the running sandbox, for checking the model against recorded figures.
    """
    cpu = CpuShare(model.cpu)
    waiting: deque[int] = deque()
    arrivals = sorted(range(len(requests)), key=lambda i: requests[i][0])
    times: dict[int, list[float]] = {}
    free = model.workers
    now = 0.0
    pending = list(arrivals)
    while pending or waiting or cpu.jobs:
        next_arrival = requests[pending[0]][0] if pending else None
        finish = cpu.next_finish()
        if finish is not None and (next_arrival is None or finish <= next_arrival):
            now = finish
            for job_id in cpu.advance(now):
                times[job_id].append(now)
                free += 1
        else:
            assert next_arrival is not None
            now = next_arrival
            cpu.advance(now)
            waiting.append(pending.pop(0))
        while waiting and free:
            job_id = waiting.popleft()
            free -= 1
            times[job_id] = [now]
            cpu.jobs[job_id] = [requests[job_id][1] * model.scale, 1.0]
    return [(times[i][0], times[i][1]) for i in range(len(requests))]


class LatencyRuntime:
    """The model running in the sandbox's event loop: workers, shared CPU timers, background runs."""

    def __init__(self, model: LatencyModel) -> None:
        self.model = model
        self.random = random.Random(model.seed)
        self.cpu = CpuShare(model.cpu)
        self.free = model.workers
        self.queue: deque[asyncio.Future[None]] = deque()
        self.done: dict[int, asyncio.Future[None]] = {}
        self.ids = itertools.count(1)
        self.timer: asyncio.TimerHandle | None = None
        self.last_background: float | None = None
        self.background_tasks: set[asyncio.Task[None]] = set()
        self.claims: dict[str, int] = {}  # SKU -> the request id inserting it right now
        # API requests served, model seconds they waited for a worker, background runs started
        self.stats: dict[str, float] = {"requests": 0, "waited_s": 0.0, "background_runs": 0}

    # -- clock -------------------------------------------------------------------------------------

    def now(self) -> float:
        """Model seconds (the event loop's clock divided by the time scale)."""
        return asyncio.get_running_loop().time() / self.model.time_scale

    def factor(self) -> float:
        """One request's cost factor: the scale times a seeded jitter."""
        jitter = self.model.jitter
        return self.model.scale * (self.random.uniform(1 - jitter, 1 + jitter) if jitter else 1.0)

    def item_cost(self, action: str, factor: float) -> float:
        """Seconds of work of one item in a request with cost factor `factor`, with the item's own jitter."""
        spread = self.model.item_jitter
        wobble = self.random.uniform(1 - spread, 1 + spread) if spread else 1.0
        return self.model.item_ms(action) * factor * wobble / 1000

    # -- workers -----------------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait for a free worker (first come, first served)."""
        if self.free > 0 and not self.queue:
            self.free -= 1
            return
        began = self.now()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()
            elif waiter in self.queue:
                self.queue.remove(waiter)
            raise
        self.stats["waited_s"] += self.now() - began

    def release(self) -> None:
        """Hand the worker to the next waiting request, or free it."""
        while self.queue:
            waiter = self.queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1

    # -- CPU ---------------------------------------------------------------------------------------

    async def work(self, seconds: float) -> None:
        """Spend `seconds` of work (at the speed of one request alone) on the shared CPU."""
        if seconds <= 0:
            return
        job_id = next(self.ids)
        self._settle()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.cpu.jobs[job_id] = [seconds, 1.0]
        self.done[job_id] = future
        self._schedule()
        try:
            await future
        finally:
            if job_id in self.cpu.jobs:  # cancelled: the job leaves the CPU
                self._settle()
                self.cpu.jobs.pop(job_id, None)
                self.done.pop(job_id, None)
                self._schedule()

    def _settle(self) -> None:
        for job_id in self.cpu.advance(self.now()):
            future = self.done.pop(job_id, None)
            if future is not None and not future.done():
                future.set_result(None)

    def _schedule(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        finish = self.cpu.next_finish()
        if finish is not None:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_at(finish * self.model.time_scale, self._tick)

    def _tick(self) -> None:
        self.timer = None
        self._settle()
        self._schedule()

    # -- background runs ---------------------------------------------------------------------------

    def created(self) -> None:
        """Products were created: start a WP-Cron run unless one started recently."""
        model = self.model
        if model.background_s <= 0:
            return
        now = self.now()
        if self.last_background is not None and now - self.last_background < model.background_every_s:
            return
        self.last_background = now
        task = asyncio.get_running_loop().create_task(self._background())
        self.background_tasks.add(task)
        task.add_done_callback(self.background_tasks.discard)

    async def _background(self) -> None:
        await self.acquire()
        self.stats["background_runs"] += 1
        load_id = next(self.ids)
        self._settle()
        self.cpu.loads[load_id] = self.model.background_cpu
        self._schedule()
        try:
            await asyncio.sleep(self.model.background_s * self.model.time_scale)
        finally:
            self._settle()
            self.cpu.loads.pop(load_id, None)
            self._schedule()
            self.release()

    def describe(self) -> dict[str, Any]:
        """Parameters and counters."""
        busy = self.model.workers - self.free
        return {
            **self.model.describe(),
            **{key: round(value, 3) for key, value in self.stats.items()},
            "busy_workers": busy,
            "queued": len(self.queue),
        }


__all__ = ["PROFILES", "CpuShare", "LatencyModel", "LatencyRuntime", "simulate"]
