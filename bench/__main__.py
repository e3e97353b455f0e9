"""Run every benchmark and write docs/performance.md."""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from bench import callbacks, drilldown, production, prometheus, store, wall

REPORT = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    rows = (store.run() + prometheus.run() + callbacks.run() + drilldown.run(100) + drilldown.run(1000) + wall.run()
            + production.run())
    lines = [
        "# Performance", "",
        f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, on {machine()}.", "",
        "| benchmark | median ms | detail |", "| --- | ---: | --- |",
        *[f"| {r['benchmark']} | {r['median_ms']} | {r['detail']} |" for r in rows],
    ]
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
