"""Fixtures of the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.devkit.sandbox.support import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver listening on a free port."""
    endpoint = Receiver()
    yield endpoint
    endpoint.close()
