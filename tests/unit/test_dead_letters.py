"""What `emporion dead show` prints of a payload: everything but secrets."""

from __future__ import annotations

from emporion.engine.dead_letters import MASK, redact


def test_redact_masks_secret_looking_keys_at_any_depth() -> None:
    payload = {
        "sku": "SKU-1",
        "password": "hunter2",
        "meta": [{"consumer_secret": "cs_x", "api_key": "k", "note": "ok"}],
        "headers": {"Authorization": "Basic abc", "X-Token": "t"},
    }
    masked = redact(payload)
    assert masked == {
        "sku": "SKU-1",
        "password": MASK,
        "meta": [{"consumer_secret": MASK, "api_key": MASK, "note": "ok"}],
        "headers": {"Authorization": MASK, "X-Token": MASK},
    }
    assert payload["password"] == "hunter2"  # the stored letter is left as it is
