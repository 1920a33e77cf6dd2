"""A simulated run shared by the tests that only read it (generation is the slow part)."""

from __future__ import annotations

import pytest

from streams.simulate import Message, SimConfig, Simulator


@pytest.fixture(scope="module")
def run() -> tuple[Simulator, list[Message]]:
    sim = Simulator(SimConfig(count=30_000, seed=11, bad_share=0.02, retry_share=0.05))
    return sim, list(sim.messages())
