"""Unit tests never reach Kafka: a send that is not mocked fails at once instead of waiting
for a broker (or, when one runs locally, quietly writing to it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import faust
import pytest


async def _refuse(*args: Any, **kwargs: Any) -> None:
    msg = "a unit test sent to Kafka: mock the topic's send (see tests/unit/streams/test_intake.py)"
    raise RuntimeError(msg)


@pytest.fixture(autouse=True)
def no_kafka_sends() -> Iterator[None]:
    """Faust's last step before its producer, made to refuse."""
    with patch.object(faust.Topic, "publish_message", _refuse):
        yield
