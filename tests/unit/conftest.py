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


async def _add_through_topic_send(
    self: object,
    topic: str,
    key: bytes | None,
    value: bytes,
    headers: Any = None,
    partition: int | None = None,
) -> None:
    """``Outbox.add`` as the topic's ``send``: tests mock sends per topic, batching aside."""
    from streams import topics  # noqa: PLC0415 - only for tests that import the app anyway

    (target,) = [
        t
        for t in vars(topics).values()
        if isinstance(t, faust.Topic) and tuple(t.topics) == (topic,)
    ]
    more = {} if headers is None else {"headers": headers}
    more |= {} if partition is None else {"partition": partition}
    await target.send(key=key, value=value, **more)


@pytest.fixture(autouse=True)
def outbox_as_topic_sends() -> Iterator[None]:
    """The worker's batched outputs go through the (mocked) topic sends in unit tests.

    ``tests/unit/streams/test_outbox.py`` tests the batching itself.
    """
    from streams.outbox import Outbox  # noqa: PLC0415

    with patch.object(Outbox, "add", _add_through_topic_send):
        yield
