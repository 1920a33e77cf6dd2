"""Shared fixtures: every test starts from an environment without GRID_* or Faust variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from streams.settings import FAUST_OVERRIDE_VARS

ReportFactory = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests see no GRID_* or Faust variables unless they set them (httpx's clean_environ)."""
    for name in list(os.environ):
        if name.startswith("GRID_") or name in FAUST_OVERRIDE_VARS:
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def report_factory() -> ReportFactory:
    """Build a valid grid report dict; keyword arguments replace fields (None removes one)."""

    def make(**changes: Any) -> dict[str, Any]:
        report: dict[str, Any] = {
            "schema_version": 1,
            "report_id": "r-0001",
            "reported_at": "2025-11-03T21:14:05+08:00",
            "channel": "grid_app",
            "reporter_role": "grid_worker",
            "district": "海曙区",
            "grid_id": "330203-GL-017",
            "text": "3号楼楼道里有电瓶车在充电",
            "place_type": "old_residential",
            "lat": 29.87,
            "lon": 121.54,
            "contact_phone": "13812345678",
        }
        report.update(changes)
        return {k: v for k, v in report.items() if v is not None}

    return make
