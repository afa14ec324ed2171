"""Order polling slows down while webhooks deliver and speeds up when one is missed or found broken."""

from __future__ import annotations

from emporion.engine.pacing import FeedPacer, WebhookPulse

FAST, SLOW = 2.0, 60.0


def pacer(pulse: WebhookPulse, connection: str | None = "shop") -> FeedPacer:
    return FeedPacer(FAST, SLOW, pulse, connection, "order")


def test_fast_until_a_delivery_proves_the_webhooks_then_slow() -> None:
    pulse = WebhookPulse(clock=lambda: 0.0)
    feed = pacer(pulse)
    feed.found([], 0.0)
    assert feed.interval(0.0) == FAST
    pulse.delivered("shop", "order", ["101"], at=5.0)
    feed.found(["101"], 6.0)  # the poll finds what the webhook told: nothing awaited
    assert feed.interval(6.0) == SLOW and feed.slowed and feed.polls == 2


def test_a_change_no_webhook_told_of_makes_it_fast_until_deliveries_come_again() -> None:
    pulse = WebhookPulse()
    feed = pacer(pulse)
    pulse.delivered("shop", "order", ["101"], at=0.0)
    feed.found(["102"], 10.0)  # WooCommerce delivers about ten seconds late: wait for it
    assert feed.interval(10.0) == SLOW  # the next look when its delivery is due, SLOW from now
    assert feed.interval(40.0) == 30.0
    feed.found([], 70.0)
    assert feed.interval(70.0) == FAST  # a minute and no delivery of 102: the webhooks missed it
    assert feed.interval(100.0) == FAST
    pulse.delivered("shop", "order", ["103"], at=131.0)  # deliveries flow again
    assert feed.interval(132.0) == SLOW


def test_a_late_delivery_of_what_the_poll_found_keeps_it_slow() -> None:
    pulse = WebhookPulse()
    feed = pacer(pulse)
    pulse.delivered("shop", "order", ["100"], at=0.0)
    feed.found(["101", "102"], 100.0)
    pulse.delivered("shop", "order", ["101", "102"], at=111.0)
    assert feed.interval(120.0) == SLOW and feed.awaiting == {}


def test_webhooks_found_broken_make_it_fast_until_the_next_delivery() -> None:
    pulse = WebhookPulse()
    feed = pacer(pulse)
    pulse.delivered("shop", "order", ["1"], at=0.0)
    assert feed.interval(1.0) == SLOW
    pulse.broken("shop", at=2.0)
    assert feed.interval(3.0) == FAST
    pulse.delivered("shop", "order", ["2"], at=4.0)
    assert feed.interval(5.0) == SLOW


def test_a_feed_no_webhook_covers_is_always_fast() -> None:
    pulse = WebhookPulse()
    pulse.delivered("shop", "order", ["1"], at=0.0)
    assert pacer(pulse, None).interval(1.0) == FAST
    assert FeedPacer(FAST, None, pulse, "shop", "order").interval(1.0) == FAST  # slowing turned off
    assert FeedPacer(FAST, 1.0, pulse, "shop", "order").interval(1.0) == FAST  # never faster than fast


def test_the_memory_of_delivered_keys_is_bounded() -> None:
    pulse = WebhookPulse()
    pulse.delivered("shop", "order", [str(n) for n in range(10)], at=0.0)
    pulse.delivered("shop", "order", ["late"], at=4000.0)  # an hour later the old keys are forgotten
    assert not pulse.delivered_since("shop", "order", "3", -1.0)
    assert pulse.delivered_since("shop", "order", "late", 3999.0)
