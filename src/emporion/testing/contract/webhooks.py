"""The webhook part of the contract: signatures checked over the raw body, deliveries parsed, registration.

The test class says how the system signs a delivery (`signed_delivery`) and which header carries the
signature; the contract checks that a good signature passes and that a wrong secret, a tampered body
or a missing signature fail, that the delivery names the record to re-read, and that registering
webhooks twice leaves one active webhook per topic, and that a second installation's registration
leaves the first one's webhooks as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from emporion.connectors.roles import WebhookSource
from emporion.testing.contract.base import ContractPart

SECRET = "contract-webhook-secret"  # noqa: S105 (a test secret, signs test deliveries only)
DELIVERY_URL = "https://emporion.example/webhooks/contract"
OTHER_URL = "https://other.example/webhooks/contract"  # a second installation pointed at the same system
INSTALLATION = "contract0000001"  # this installation's id


def without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    """`headers` without `name` (any case)."""
    return {key: value for key, value in headers.items() if key.lower() != name.lower()}


def tampered(body: bytes) -> bytes:
    """`body` with one byte changed."""
    return body[:-1] + bytes([body[-1] ^ 0x01]) if body else b"x"


class WebhookSourceContract(ContractPart):
    """A webhook source: constant-time signature checks on the raw body, parsing, registration, states."""

    signature_header: ClassVar[str]
    entity: ClassVar[str] = "product"

    def signed_delivery(self, secret: str, key: str) -> tuple[dict[str, str], bytes]:
        """Headers and raw body of a delivery the system sends, signed with `secret`, naming record `key`."""
        raise NotImplementedError

    def test_a_good_signature_passes(self, connector: WebhookSource) -> None:
        headers, body = self.signed_delivery(SECRET, "42")
        assert connector.verify_webhook(headers, body, SECRET)

    def test_a_wrong_secret_fails(self, connector: WebhookSource) -> None:
        headers, body = self.signed_delivery(SECRET, "42")
        assert not connector.verify_webhook(headers, body, SECRET + "x")
        assert not connector.verify_webhook(headers, body, "")

    def test_a_tampered_body_fails(self, connector: WebhookSource) -> None:
        headers, body = self.signed_delivery(SECRET, "42")
        assert not connector.verify_webhook(headers, tampered(body), SECRET)

    def test_a_missing_signature_fails(self, connector: WebhookSource) -> None:
        headers, body = self.signed_delivery(SECRET, "42")
        assert not connector.verify_webhook(without(headers, self.signature_header), body, SECRET)

    def test_a_delivery_names_the_record_to_read_again(self, connector: WebhookSource) -> None:
        """Parsing gives the entity and key; the delivery has a topic and an id for the inbox."""
        headers, body = self.signed_delivery(SECRET, "42")
        assert not connector.is_ping(headers, body)
        hint = connector.parse_webhook(headers, body)
        assert hint is not None and hint.entity == self.entity and hint.keys == ["42"]
        delivery = connector.delivery(headers, body)
        assert delivery.delivery_id and delivery.topic == connector.webhook_topic(headers) != ""

    async def test_registering_twice_leaves_one_active_webhook_per_topic(
        self, connector: WebhookSource
    ) -> None:
        """`ensure_webhooks` is idempotent; states say active, and outdated for another secret."""
        topics = connector.webhook_topics([self.entity])
        assert topics
        ids = await connector.ensure_webhooks(DELIVERY_URL, SECRET, topics, installation=INSTALLATION)
        assert len(ids) == len(topics)
        again = await connector.ensure_webhooks(DELIVERY_URL, SECRET, topics, installation=INSTALLATION)
        assert [str(i) for i in again] == [str(i) for i in ids]
        states = await connector.webhook_states(DELIVERY_URL, SECRET, topics, installation=INSTALLATION)
        assert states == dict.fromkeys(topics, "active")
        moved = await connector.webhook_states(
            DELIVERY_URL, SECRET + "-rotated", topics, installation=INSTALLATION
        )
        assert set(moved.values()) == {"outdated"}

    async def test_another_installation_keeps_its_own_webhooks(self, connector: WebhookSource) -> None:
        """A second installation on the same system registers its own webhooks and leaves ours alone."""
        topics = connector.webhook_topics([self.entity])
        ours = await connector.ensure_webhooks(DELIVERY_URL, SECRET, topics, installation=INSTALLATION)
        theirs = await connector.ensure_webhooks(
            OTHER_URL, "other-secret", topics, installation="other0000000001"
        )
        assert not {str(i) for i in ours} & {str(i) for i in theirs}
        states = await connector.webhook_states(DELIVERY_URL, SECRET, topics, installation=INSTALLATION)
        assert states == dict.fromkeys(topics, "active")
