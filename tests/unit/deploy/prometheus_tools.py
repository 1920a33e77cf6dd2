"""Promtool and the Prometheus server for tests, from ``deploy/local/prometheus.sh``.

The script unpacks Debian's ``prometheus`` package once (``make prometheus-fetch``). When that
cannot be had, tests skip with the reason; with CI=true they fail, so a CI run never passes
these tests by not running them (as the Kafka fixtures in tests/integration/conftest.py do).
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "deploy/local/prometheus.sh"
DEPLOY_PROMETHEUS = ROOT / "deploy/prometheus"
FETCH_TIMEOUT_S = 600


def in_ci() -> bool:
    """Whether this run is CI's, where nothing may be skipped for want of a tool."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Fail (CI=true) or skip: Prometheus cannot be had here."""
    if in_ci():
        pytest.fail(f"CI=true and no Prometheus/promtool: {reason}", pytrace=False)
    pytest.skip(f"no Prometheus/promtool ({reason}); run `make prometheus-fetch`")


def _script(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@functools.cache
def _find_bin_dir() -> Path | str:
    """The directory with promtool and prometheus, fetched if missing; else why not (once)."""
    found = _script("path")
    if found.returncode != 0:
        fetched = _script("fetch", timeout=FETCH_TIMEOUT_S)
        if fetched.returncode != 0:
            return f"prometheus.sh fetch failed:\n{fetched.stdout}{fetched.stderr}"
        found = _script("path")
    bin_dir = Path(found.stdout.strip())
    missing = [t for t in ("promtool", "prometheus") if not (bin_dir / t).is_file()]
    if found.returncode != 0 or missing:
        return f"prometheus.sh path gave {found.stdout!r} {found.stderr!r}, missing {missing}"
    return bin_dir


def bin_dir() -> Path:
    """Where promtool and prometheus are; skips (fails with CI=true) when they cannot be had."""
    found = _find_bin_dir()
    if isinstance(found, str):
        unavailable(found)
    return found
