"""The dashboard's own Prometheus metrics, in the text exposition format.

Per process: poll durations and errors per source, callback counts and latency.
"""
from __future__ import annotations

import threading
from bisect import bisect_left
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram:
    """A labelled histogram with fixed buckets (seconds)."""

    def __init__(self, name: str, help_text: str, label: str):
        self.name, self.help, self.label = name, help_text, label
        self._counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self._sums: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def observe(self, label_value: str, seconds: float) -> None:
        with self._lock:
            self._counts[label_value][bisect_left(BUCKETS, seconds)] += 1
            self._sums[label_value] += seconds

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            for value, counts in sorted(self._counts.items()):
                label = f'{self.label}="{_escape(value)}"'
                running = 0
                for bound, count in zip((*BUCKETS, "+Inf"), counts):
                    running += count
                    lines.append(f'{self.name}_bucket{{{label},le="{bound}"}} {running}')
                lines.append(f"{self.name}_sum{{{label}}} {self._sums[value]:.6f}")
                lines.append(f"{self.name}_count{{{label}}} {running}")
        return lines


class Counter:
    """A labelled monotonically increasing counter."""

    def __init__(self, name: str, help_text: str, label: str):
        self.name, self.help, self.label = name, help_text, label
        self._values: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, label_value: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[label_value] += amount

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            lines += [f'{self.name}{{{self.label}="{_escape(k)}"}} {v:g}' for k, v in sorted(self._values.items())]
        return lines


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


POLL_SECONDS = Histogram("opscenter_poll_duration_seconds", "Time to poll one source.", "source")
POLL_ERRORS = Counter("opscenter_poll_errors_total", "Polls that failed, per source.", "source")
CALLBACK_SECONDS = Histogram("opscenter_callback_duration_seconds", "Server time of Dash callbacks.", "callback")


def observe_poll(source: str, seconds: float, ok: bool) -> None:
    POLL_SECONDS.observe(source, seconds)
    if not ok:
        POLL_ERRORS.inc(source)


def render() -> str:
    """Return every metric in the Prometheus text format."""
    lines = []
    for metric in (POLL_SECONDS, POLL_ERRORS, CALLBACK_SECONDS):
        lines += metric.render()
    return "\n".join(lines) + "\n"
