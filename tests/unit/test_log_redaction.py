"""The log safeguard: secrets from the configuration, e-mails and URL keys never reach a log line."""

from __future__ import annotations

import json
import logging

import pytest

from emporion.config import parse_settings
from emporion.logs import EMAIL_MASK, MASK, add_secret, configure_logging, get_logger, redact_text

CONSUMER_KEY = "ck_redaction_test_4e1c2b9a"


def test_text_is_masked_where_secrets_emails_and_url_keys_appear() -> None:
    add_secret("hunter2-long-password")
    text = redact_text(
        "login with hunter2-long-password failed for jane.doe+shop@example.co.uk at "
        "https://admin:pa55word@erp.example.com/rpc?consumer_key=ck_abc&oauth_signature=Zm9v%3D&page=2"
    )
    assert "hunter2" not in text and "jane.doe" not in text and "pa55word" not in text
    assert "ck_abc" not in text and "Zm9v" not in text
    assert f"login with {MASK} failed for {EMAIL_MASK}" in text
    assert f"https://{MASK}@erp.example.com" in text and "page=2" in text
    assert redact_text("SKU-00001 ordered 3") == "SKU-00001 ordered 3"  # ordinary text is kept
    refused = 'Tryton refused create: The phone number "+49 30 123" for party "Anna Müller" is not valid.'
    assert redact_text(refused) == 'Tryton refused create: The phone number "…" for party "…" is not valid.'


@pytest.mark.parametrize("fmt", ["json", "pretty"])
def test_every_log_line_is_redacted(
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("REDACTION_TEST_KEY", CONSUMER_KEY)
    settings = parse_settings(
        """
state: {url: "sqlite:///:memory:"}
connections:
  shop: {type: woocommerce, url: "https://shop.example", consumer_key: env:REDACTION_TEST_KEY,
         consumer_secret: cs_literal_value_123}
flows: []
"""
    )
    assert settings.connections["shop"].consumer_key.get_secret_value() == CONSUMER_KEY
    configure_logging(fmt, "debug")
    log = get_logger("emporion.test")
    try:
        raise ValueError(f"refused {CONSUMER_KEY} for buyer@example.org")
    except ValueError:
        log.exception("request failed", url=f"https://shop.example/?consumer_key={CONSUMER_KEY}")
    log.debug("details", detail={"email": "buyer@example.org", "secrets": ["cs_literal_value_123"]})
    logging.getLogger("uvicorn.error").warning("client %s sent cs_literal_value_123", "buyer@example.org")
    err = capsys.readouterr().err
    assert "request failed" in err and "details" in err
    assert f"client {EMAIL_MASK} sent {MASK}" in caplog.text  # the standard library's records too
    for leak in (CONSUMER_KEY, "cs_literal_value_123", "buyer@example.org"):
        assert leak not in err and leak not in caplog.text
    if fmt == "json":
        events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert [e["event"] for e in events] == ["request failed", "details"]
        assert "ValueError: refused ***" in events[0]["exception"]
