"""The regression guard, `make bench-check`: is anything much slower than when its figure was recorded?

A 1,000-service demo estate is polled as deployed, then the CPU time (this thread's) of a poll with the
poller's derived step (anomalies and the wall's views), of the wall refresh for the first viewer after
it (a web worker reading the poller's views from Redis and formatting them), and of the chain, service
and trace pages is measured, each divided
by the CPU time of a reference computation timed in the same run: one pandas group-by over the estate's
resource frame. Ratios, not milliseconds, so a slower or busier machine moves both sides alike. A ratio
more than twice its value in bench/reference.json fails the check.
`make bench` (or `python -m bench.check --record`) records the ratios anew.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dash._utils import to_json

from bench import callbacks, drilldown
from bench.viewer import WallRequests
from layouts.pages import wall

REFERENCE = Path(__file__).resolve().parent / "reference.json"
SERVICES = 1000
REPEAT = 5
TOLERANCE = 2.0


@dataclass(frozen=True)
class Verdict:
    """One measure's ratio to the reference computation, against its recorded ratio."""

    name: str
    ratio: float
    recorded: float | None

    @property
    def failed(self) -> bool:
        return self.recorded is not None and self.ratio > TOLERANCE * self.recorded

    def __str__(self) -> str:
        was = f"recorded {self.recorded:.2f}" if self.recorded is not None else "not recorded"
        return f"{'SLOWER' if self.failed else 'ok':6} {self.name}: {self.ratio:.2f} x the reference ({was})"


def _cpu_ms(func, repeat: int = REPEAT, before=lambda: None) -> float:
    """The least CPU milliseconds of this thread over ``repeat`` calls of ``func``: the least is what the
    code costs, and the other work on the machine only ever adds to it."""
    samples = []
    for _ in range(repeat):
        before()
        started = time.thread_time()
        func()
        samples.append((time.thread_time() - started) * 1000)
    return min(samples)


def measure(services: int = SERVICES) -> dict[str, float]:
    """Each measure's CPU time divided by the reference computation's, on a demo estate of ``services``."""
    deployment = f"bench-check-{services}"
    app, store, next_minute = callbacks.estate(services, deployment, callbacks.REDIS_URL, worker=True)
    resources = store.frame("resource_metrics")
    reference = _cpu_ms(lambda: resources.groupby("service")["cpu_ratio"].max(), repeat=9)
    with app.server.test_request_context():
        requests = WallRequests(wall.layout(), app.callback_map)  # the keys a browser holds before the polls
    poll = _cpu_ms(next_minute, repeat=3)
    body = requests.refresh({"frames": store.versions(), "stale": []}, requests.keys)
    client = app.server.test_client()
    costs = {
        "poll and derived step": poll,
        "wall refresh, first viewer": _cpu_ms(
            lambda: client.post("/_dash-update-component", json=body),
            before=lambda: callbacks.first_viewer(app, deployment),
        ),
    }
    with app.server.test_request_context():
        for name, page, _detail in drilldown.pages(store):
            costs[name] = _cpu_ms(lambda page=page: to_json(page()))
    return {name: cost / reference for name, cost in costs.items()}


def judge(ratios: dict[str, float], recorded: dict[str, float]) -> list[Verdict]:
    """A verdict per measure against the recorded ratios."""
    return [Verdict(name, ratio, recorded.get(name)) for name, ratio in ratios.items()]


def record(ratios: dict[str, float], path: Path = REFERENCE) -> None:
    """Write ``ratios`` as the new reference."""
    path.write_text(json.dumps({name: round(ratio, 3) for name, ratio in ratios.items()}, indent=2) + "\n")


def recorded(path: Path = REFERENCE) -> dict[str, float]:
    """The recorded ratios, none when nothing was recorded yet."""
    return json.loads(path.read_text()) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="record the measured ratios as the reference")
    parser.add_argument("--services", type=int, default=SERVICES)
    args = parser.parse_args(argv)
    ratios = measure(args.services)
    if args.record:
        record(ratios)
    verdicts = judge(ratios, recorded())
    print("\n".join(str(v) for v in verdicts))
    failed = [v.name for v in verdicts if v.failed]
    if failed:
        print(f"bench-check: more than {TOLERANCE:g} x slower than recorded: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
