"""Anomaly detection on the demo estate, whose scripted episodes are the ground truth.

Each of ``DAYS`` consecutive days (a full week, weekend included) is judged whole
against a model learnt from the ``HISTORY_DAYS`` before it, the way the poller's
derived step does. An episode is found when an anomaly on its service overlaps it; an
anomaly that overlaps no episode of its service (with ``SLACK`` either side) is a false
alarm. Also timed: learning the model, and judging one poll's six-hour window.
"""

from __future__ import annotations

import statistics
import time

import pandas as pd

from dashboard.analytics import anomaly
from dashboard.core.derived import HISTORY_DAYS
from datasources.demo import DemoSource, episodes

START = pd.Timestamp("2024-03-03 16:00", tz="UTC")  # Monday 00:00 in Shanghai
DAYS = 7
SLACK = pd.Timedelta(minutes=5)
NOT_JUDGED = {  # episodes no judged metric shows
    "site_degradation",  # traffic moving between sites: the site shares show it
    "feed_stall",  # a quote feed's ticks: feed_status shows it
    "reject_spike",  # the business figures show these two
    "transfer_outage",
}


def judge(found: pd.DataFrame, truth: list) -> tuple[int, int]:
    """(episodes found, false alarms) of one day."""
    hits = sum(
        bool(((found["service"] == e.service) & (found["start"] <= e.end) & (found["end"] >= e.start)).any())
        for e in truth
    )
    false = sum(
        not any(a.service == e.service and a.start <= e.end + SLACK and a.end >= e.start - SLACK for e in truth)
        for a in found.itertuples(index=False)
    )
    return hits, false


def run() -> list[dict]:
    source = DemoSource(name="demo")
    services = len(source.history(START, START + pd.Timedelta(minutes=1))["service_metrics"])
    found_total = episodes_total = false_total = 0
    learn_ms, poll_ms = [], []
    for day in range(DAYS):
        begin = START + pd.Timedelta(days=day)
        end = begin + pd.Timedelta(days=1)
        t0 = time.perf_counter()
        model = anomaly.learn(source.history(begin - pd.Timedelta(days=HISTORY_DAYS), begin))
        learn_ms.append((time.perf_counter() - t0) * 1000)
        found = anomaly.find(model, source.history(begin, end))
        truth = [e for e in episodes(begin, end - pd.Timedelta(seconds=1)) if e.kind not in NOT_JUDGED]
        hits, false = judge(found, truth)
        found_total, episodes_total, false_total = found_total + hits, episodes_total + len(truth), false_total + false
        recent = source.history(end - pd.Timedelta(hours=6), end)
        t0 = time.perf_counter()
        anomaly.find(model, recent)
        poll_ms.append((time.perf_counter() - t0) * 1000)
    recall = found_total / episodes_total
    per_service_day = false_total / (services * DAYS)
    detail = (
        f"{DAYS} days (a week), {services} services, {HISTORY_DAYS} days of history: recall {recall:.3f} "
        f"({found_total}/{episodes_total} episodes), {false_total} false alarms = "
        f"{per_service_day:.3f} per service per day"
    )
    return [
        {
            "benchmark": "anomaly detection on the demo episodes",
            "median_ms": round(statistics.median(poll_ms), 1),
            "detail": detail + "; time = judging one poll's 6 h window",
        },
        {
            "benchmark": "anomaly model: learn from history",
            "median_ms": round(statistics.median(learn_ms), 1),
            "detail": f"{HISTORY_DAYS} days of 1-minute service and resource metrics (generation included), "
            "once an hour",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
