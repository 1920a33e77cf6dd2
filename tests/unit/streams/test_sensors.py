"""Faust's default monitor is taken off the hot path unless Faust's sensors are asked for."""

from __future__ import annotations

from pathlib import Path

import faust

import streams.app
from streams.app import create_app, without_default_monitor
from streams.settings import Settings


def _app(tmp_path: Path) -> faust.App:
    return create_app(Settings(data_dir=tmp_path))


def test_faust_hooks_its_monitor_into_every_event_when_left_alone(tmp_path):
    app = _app(tmp_path)
    app.on_init_dependencies()  # what the worker's start does first
    assert app.monitor in set(app.sensors)


def test_the_monitor_is_off_the_sensors_and_not_started(tmp_path):
    app = _app(tmp_path)
    without_default_monitor(app)
    services = list(app.on_init_dependencies())
    assert set(app.sensors) == set()
    assert app.monitor not in services


def test_the_worker_runs_without_it_by_default():
    assert not streams.app.settings.faust_sensors
    streams.app.app.on_init_dependencies()
    assert streams.app.app.monitor not in set(streams.app.app.sensors)
