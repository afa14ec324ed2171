"""The latency model against the recorded WooCommerce 10.0.2 timing (one batch alone, four at once, workers,
cost scale, background runs) and the sandbox serving under it: model arithmetic, no wall-clock targets."""

from __future__ import annotations

import threading

import httpx
import pytest

from emporion_devkit.sandbox.woocommerce import LatencyModel, SandboxShop
from emporion_devkit.sandbox.woocommerce.latency import CpuShare, simulate
from tests.devkit.sandbox.support import recording

TIMING = recording("timing.json")["summary"]


def batch_of_creates(model: LatencyModel, items: int) -> float:
    """The work of one batch of creates in seconds, at the speed of one request alone."""
    return (model.write_request_ms + items * model.create_ms) / 1000


def test_one_batch_of_100_creates_alone_takes_what_the_real_shop_took() -> None:
    model = LatencyModel.named("wc10")
    [(start, end)] = simulate(model, [(0.0, batch_of_creates(model, 100))])
    recorded = TIMING["create_100_batch_ms_sequential"]
    assert start == 0.0
    assert min(recorded) / 1000 <= end <= max(recorded) / 1000  # 4.5-5.9 s
    per_item = (end - model.write_request_ms / 1000) * 1000 / 100
    assert per_item == pytest.approx(TIMING["create_sequential"]["per_item_ms_p50"], rel=0.05)
    assert model.update_ms == pytest.approx(TIMING["update_sequential"]["per_item_ms_p50"], rel=0.05)


def test_four_batches_at_once_are_slower_each_and_add_no_throughput() -> None:
    model = LatencyModel.named("wc10")
    work = batch_of_creates(model, 100)
    [(_, alone)] = simulate(model, [(0.0, work)])
    together = simulate(model, [(0.0, work)] * 4)
    ends = [end for _, end in together]
    recorded = TIMING["create_100_batch_ms_4_in_parallel"]
    assert max(ends) - min(ends) < 1e-6  # they finish together
    assert min(recorded) / 1000 * 0.97 <= ends[0] <= max(recorded) / 1000 * 1.03  # ~18 s each
    assert 3 <= ends[0] / alone <= 4
    one_at_a_time = 4 * alone
    assert ends[0] == pytest.approx(one_at_a_time, rel=0.2)  # same throughput, within the recording's spread
    assert ends[0] >= one_at_a_time / model.cpu - 1e-6  # never more than the CPU's capacity


def test_a_request_beyond_the_workers_waits_for_one() -> None:
    model = LatencyModel.named("wc10", workers=4)
    work = batch_of_creates(model, 100)
    spans = simulate(model, [(0.0, work)] * 5)
    starts = sorted(start for start, _ in spans)
    assert starts[:4] == [0.0] * 4
    assert starts[4] == pytest.approx(min(end for _, end in spans[:4]))


def test_the_cost_scale_slows_every_request() -> None:
    model = LatencyModel.named("wc10", scale=3)
    [(_, end)] = simulate(model, [(0.0, batch_of_creates(model, 100))])
    assert end == pytest.approx(3 * batch_of_creates(model, 100))


def test_a_background_run_takes_a_share_of_the_cpu() -> None:
    cpu = CpuShare(1.2)
    cpu.jobs[1] = [1.0, 1.0]
    assert cpu.next_finish() == pytest.approx(1.0)  # alone: the speed of one request
    cpu.loads[2] = 0.25
    cpu.jobs[3] = [1.0, 1.0]
    assert cpu.speed() == pytest.approx(1.2 / 2.25)
    assert cpu.advance(1.0) == []
    assert cpu.jobs[1][0] == pytest.approx(1 - 1.2 / 2.25)


def test_named_models_and_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown latency profile"):
        LatencyModel.named("wc3")
    with pytest.raises(ValueError, match="unknown latency settings"):
        LatencyModel.named("wc10", cores=2)


def test_the_sandbox_serves_under_the_model() -> None:
    model = LatencyModel.named("wc10", workers=1, time_scale=0.05, background_s=2, seed=3)
    with SandboxShop.serve(latency=model) as shop:
        auth = {"auth": (shop.consumer_key, shop.consumer_secret), "headers": {"X-Forwarded-Proto": "https"}}
        answers: list[int] = []

        def create(n: int) -> None:
            body = {"create": [{"name": f"Timed {n}-{i}", "sku": f"T-{n}-{i}"} for i in range(5)]}
            with httpx.Client(base_url=shop.api_url, timeout=30, **auth) as http:  # type: ignore[arg-type]
                answers.append(http.post("/products/batch", json=body).status_code)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(timeout=30, **auth) as http:  # type: ignore[arg-type]
            state = http.get(shop.base_url + "/__sandbox/latency").json()
            listed = http.get(shop.api_url + "/products", params={"per_page": 100})
            turned_off = http.delete(shop.base_url + "/__sandbox/latency").json()
            again = http.post(shop.base_url + "/__sandbox/latency", json={"scale": 3}).json()
    assert answers == [200, 200, 200]
    assert listed.status_code == 200 and int(listed.headers["X-WP-Total"]) == 15
    assert state["name"] == "wc10" and state["requests"] >= 3
    assert state["waited_s"] > 0  # one worker: the second and third batch waited for it
    assert state["background_runs"] == 1  # WP-Cron after the creates, once per minute at most
    assert turned_off == {"name": None}
    assert again["name"] == "wc10" and again["scale"] == 3
