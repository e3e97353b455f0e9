"""Frame store codecs and demo generation: time and size on the demo estate's largest frame."""

from __future__ import annotations

import io
import pickle
import statistics
import time

import pandas as pd

from dashboard.core.store import decode_frame, encode_frame, open_store
from datasources.demo import DemoSource

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC").to_pydatetime()


def _timed(func, repeat: int = 5) -> float:
    """Median wall time of ``func`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _json_codec():
    def encode(frame):
        return frame.to_json(orient="split", date_format="iso").encode()

    def decode(data):
        return pd.read_json(io.BytesIO(data), orient="split")

    return encode, decode


def run(services: int = 1000) -> list[dict]:
    """Return rows of (what, figures) for the benchmark report."""
    rows = []
    for size in (None, services):
        options = {"services": size} if size else {}
        source = DemoSource(name="demo", options=options)
        fetch_ms = _timed(lambda source=source: source.fetch(NOW), repeat=3)
        frames = source.fetch(NOW)
        count = len(frames["services"])
        rows.append(
            {
                "benchmark": f"demo fetch, {count} services",
                "median_ms": round(fetch_ms, 1),
                "detail": ", ".join(f"{k} {len(v):,}" for k, v in frames.items() if len(v) > 1000),
            }
        )
    largest_name, largest = max(frames.items(), key=lambda item: len(item[1]))
    codecs = {"arrow": (encode_frame, decode_frame), "pickle": (pickle.dumps, pickle.loads), "json": _json_codec()}
    for codec, (encode, decode) in codecs.items():
        data = encode(largest)
        encode_ms = _timed(lambda encode=encode: encode(largest))
        decode_ms = _timed(lambda decode=decode, data=data: decode(data))
        rows.append(
            {
                "benchmark": f"{codec} codec, {largest_name} ({len(largest):,} rows)",
                "median_ms": round(encode_ms + decode_ms, 1),
                "detail": f"encode {encode_ms:.1f} ms, decode {decode_ms:.1f} ms, {len(data) / 1e6:.1f} MB",
            }
        )
    store = open_store(None, "bench", ["demo"])
    store.write("demo", frames)
    versions = store.versions()
    rows.append(
        {
            "benchmark": "store.frame(service_metrics), cached version",
            "median_ms": round(_timed(lambda: store.frame("service_metrics", versions), repeat=50), 3),
            "detail": "per read",
        }
    )
    return rows
