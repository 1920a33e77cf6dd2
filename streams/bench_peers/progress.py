"""How a bench peer process is told what to do, and how it tells the bench how far it got.

The bench starts each peer as ``python -m streams.bench_peers.<peer> '<PeerConfig JSON>'``;
the peer rewrites a small JSON progress file a few times a second (and once at exit), and the
bench sums the files of a variant's processes to know when the backlog is drained.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["PeerConfig", "ProgressWriter", "read_progress"]


@dataclass(frozen=True)
class PeerConfig:
    """Where a peer reads and writes, as which group, and where it reports progress."""

    bootstrap: str
    source: str  # the pre-published reports
    accepted: str
    findings: str
    dlq: str
    seen: str  # the plain loop's compacted "seen" changelog (Quix keeps its own)
    group: str
    progress: str  # path of the progress file
    partitions: int = 6
    guarantee: str = "at-least-once"  # Quix only: or "exactly-once"
    state_dir: str = ""  # Quix only

    def to_json(self) -> str:
        """The config as one command-line argument."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PeerConfig:
        """The config from its command-line argument."""
        return cls(**json.loads(text))


class ProgressWriter:
    """A daemon thread that writes ``figures()`` to ``path`` every ``interval`` seconds."""

    def __init__(
        self, path: str, figures: Callable[[], dict[str, float]], interval: float = 0.2
    ) -> None:
        self.path = Path(path)
        self.figures = figures
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Begin writing."""
        self._thread.start()

    def stop(self) -> None:
        """Write a last time and stop."""
        self._stop.set()
        self._thread.join(5)
        self.write()

    def write(self) -> None:
        """Replace the file atomically, so a reader never sees half of it."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.figures()))
        os.replace(tmp, self.path)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.write()


def read_progress(paths: Iterable[Path]) -> dict[str, float]:
    """The figures of several processes: counts summed, first_at the min, last_at the max."""
    total: dict[str, float] = {}
    for path in paths:
        try:
            figures = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # not written yet
        for name, value in figures.items():
            if name == "first_at":  # 0: none handled yet
                earlier = [v for v in (value, total.get(name, 0.0)) if v]
                total[name] = min(earlier, default=0.0)
            elif name == "last_at":
                total[name] = max(value, total.get(name, 0.0))
            else:
                total[name] = total.get(name, 0.0) + value
    return total
