"""With CI=true a missing broker fails the run; elsewhere it skips with a hint."""

import pytest

from tests.integration.conftest import _no_broker


def test_missing_broker_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no Kafka broker"):
        _no_broker("port closed")


def test_missing_broker_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make kafka-up"):
        _no_broker("port closed")
