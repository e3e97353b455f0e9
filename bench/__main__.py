"""Run every benchmark and write docs/performance.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import anomaly, callbacks, check, drilldown, production, prometheus, scale, store, wall

REPORT = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
NOTES = """

## Reading the figures

- The figures come from the machine named in the first line. Since 2026-12-07 08:11 UTC it is a third one,
  named like the second (AMD EPYC, 2 cores) but two to three times faster for this code: at 1,000 services
  the first wall viewer cost 52.4 ms CPU p50 on the second and 20.3 ms here, the drill-down pages 33.6 to
  39.1 ms there and 13.6 to 16.0 ms here (on the first, an Intel Xeon, the same code's first viewer cost
  about 34 ms). The regression guard's ratios, which divide by a pandas group-by timed alongside, moved
  less (the first viewer's 1.55 there, 1.31 here). The run of 2026-12-07 after 10:30 UTC is on a fourth,
  named alike again, where that same code's first viewer cost 23 to 28 ms CPU p50.
- The machine is shared: the load average beside a figure says how busy it was. Above 2 (its
  cores) a wall-clock time includes waiting for a CPU; the CPU times are what the server spent.
- Wall refresh: a worker computes what a refresh draws once per frame version (`dashboard/core/memo.py`);
  every further viewer of that version is served from the memo (the rows above: CPU p95 of a few
  milliseconds); in wall-clock time that holds only on a machine not busier than its cores. The
  first viewer after a poll pays for the computation, once per
  worker per poll interval, and it does not grow with the number of viewers. What reads the large
  frames is computed once per poll by the poller's derived step (`dashboard/analytics/wallframes.py`):
  health, the roll-up with its reasons, site shares and states, the tiles' formatted figures and
  error-log rates, chain statuses, the header, the sparklines' last hour and the requests availability
  is summed from. At 1,000 services that took the first viewer from 122 ms CPU p50 (p95 187 ms, load
  1.7) to 57 ms (p95 93 ms, load 2.9). The derived step now also keeps what the lists and the other
  key figures need, already selected and sorted: the active incidents with their commanders and the
  P1 banner's order, the firing alerts, the changes in progress and the scheduled ones, the latest
  chaos runs, the events MTTA, MTTR and the change and chaos rates are means of (MTTA with opscenter's
  acknowledgements from the history database), the incidents' alarm, and the chain layout and
  services' names in each language. The worker reads only these small views (none of the estate's or
  the ITSM's frames), formats their few rows in plain Python, where pandas' fixed cost per operation
  was most of the time, and takes the key figures' 30-day windows and the next change at the moment
  of drawing; it computes the views itself, with the same function, when the poller's are missing or
  their derivation failed. Between a poll and the derivation that follows it (at 1,000 services, seconds
  of anomaly scoring), a refresh draws the frames the stored views come from (`drawn_versions` in
  `layouts/components/views.py`): before, every worker's first viewer in that gap computed the views
  from the newest frames, decoding the whole estate, so that on the production set-up a worker spent
  most polls at 580 to 750 MB, against about 270 MB now (the same 1,000-service estate polled every few
  seconds into Redis, one worker refreshing after each poll, for a minute).
  Run alternately with the code before, with the same answer byte for byte but for
  the versions, that took the first viewer at 1,000 services from 49.6 ms CPU p50 (p95 62.0 ms, load
  3.1) to 20.7 ms (p95 35.0 ms, load 3.3), and at 100 services from 38.9 to 12.2 ms (p95 47.3 to
  18.4 ms, load 3.5); the regression guard's ratio went from 6.2 to 1.1. What is left is the
  tile model (sparkline points, reasons in words, chain sites: about 6 ms), the digests the browser's
  keys compare, Dash's own work and JSON, and garbage collection: a full collection over what a worker
  holds after loading the app (about 230,000 objects) took 129 ms on this busy machine, so
  `dashboard/gunicorn_conf.py` freezes those objects (`gc.freeze` in `post_worker_init`) and a full
  collection no longer walks them.
  Since 2026-12-07 the first-viewer rows time what a web worker does after a poll: its store, on Redis,
  has read nothing of the new versions, so the refresh reads the views and decodes them. Before, the
  benchmark's app read the poller's own in-process store and found the views decoded, which no worker
  does: it recorded 18.7 ms CPU p50 where a worker spent about 41 ms. Reading the views in one round
  trip (an `MGET`, where there was a `GET` per view and source, about 60) and converting a small frame
  on the reading thread without pandas' metadata took a worker's first refresh from 47 to about 30 ms
  in wall-clock time; counting a site's services in the poller's site states (no read of the
  `instances` frame), sparkline positions by nanosecond and the chain layout by position took the
  formatting from 17.5 to 13.6 ms. What is left: decoding the 19 views (about 6 ms, pandas' fixed cost
  per frame and column), reading them (about 4 ms; the sparklines' hour is 2.3 MB of the 3 MB), the
  tile model (about 6 ms), the lists' components and the digests (about 5 ms) and Dash's own dispatch
  and JSON (about 4 ms).
  On the present machine, the sparklines' view became the rows
  the browser draws: per minute, every tile's p95 in the wall's order as the JSON array the poller
  formatted (0.3 MB, where a row per service and minute made 2.3 MB of the 3 MB a refresh read), so a
  worker sends the rows newer than the browser's as they are; a refresh reads its SLO badges and freeze
  breaches in the round trip of the views, and not the roll-up view only the chain page draws. Run
  alternately with the code before (four runs each of 60 calls, the same answer byte for byte), the first
  viewer at 1,000 services went from a median of 68.6 to 51.7 ms CPU p50 (p95 84.6 to 70.0 ms; load
  average about 1.1, the machine's own noise moving one run by 20 ms).
  Since 2026-12-07, the poller derives the tile model itself, in each language: each part as the JSON
  the browser receives, with its digest (the `wall_model` view, `dashboard/analytics/wallmodel.py`), the
  budget badges from the SLO figures derived at the same moment. A worker sends the parts whose digest
  the browser does not hold, one `json.loads` each, and no longer puts reasons into words, rolls up the
  chains' reasons, site shares and budget badges, or hashes them. The lists, the business headlines and
  the sites are read as rows straight from Arrow (`FrameStore.records`), with no pandas frame between:
  a frame's decoding costs 0.15 to 0.35 ms whatever its size, a handful of rows a tenth of that. After a
  poll a refresh now reads five views as frames and six as rows, where it decoded 21 frames. Run
  alternately with the code before on this machine (100 calls each, the same answer but for the
  versions), the first viewer at 1,000 services went from 23 to 28 ms CPU p50 to 14 to 16 ms, and at 100
  services from 13.8 to about 10.5 ms. What is left at 1,000 services, of about 15 ms: reading the five
  frames (about 3.7 ms, 2 ms of it decoding), Dash's and Flask's own work with the JSON of a 95 KB answer
  (about 3.5 ms), the lists' components (about 1.6 ms) and their digests (0.6 ms), the lists' rows (about
  1.2 ms), the key figures (about 1 ms), loading the tile model's parts (about 1 ms).
  The Chromium row at 200 services times exactly those first-viewer refreshes (data changes
  between every few refreshes, and one browser is the only viewer).
- Storage: the store cuts the large frames (`service_metrics`, `resource_metrics`, `calls`, `log_rates`,
  `utilisation_peaks`) by service into partitions of about 2 MB and writes no value over
  `frame_limit_mb` (16 MB; [architecture.md](architecture.md#partitions)); the codec rows time one
  whole frame, as a whole-frame read still decodes it. A drill-down page reads and decodes only the
  partitions of its services, and the chain page the poller's views for its steps now: the
  drill-down rows are measured on an estate polled with the derived step, through a store of the
  worker's own (its first call decodes what the page reads). With the same set-up at 1,000 services
  and load 5.5, CPU p50 went from 58.5 to 17.9 ms (/chain), 60.2 to 34.8 ms (/service) and 30.6 to
  22.5 ms (/trace) when the pages stopped reading whole frames, and what the worker held decoded
  after the three pages from 194 to 23 MB. The 5,000-service row (`bench/scale.py`, `max_rows:
  10000000`, a 60 s poll interval) polls into Redis with the derived step as a serving poller runs it
  and draws the wall in a worker process of its own: no value over 16 MB. Before the anomaly learning
  ran beside the polls, the same estate's first poll took 98 s and its anomaly step 522 s (load 12 to
  19), the learning holding up the wall's views all that time.
- The service page computes over one service's rows, a few hundred, where pandas' fixed cost per
  operation, not the rows, was the time: its slowest and failed calls, its error log lines per minute and
  the window's rows are picked and summed on arrays, a service's events are read from its own rows, once
  per frame version (`drilldown.service_events`), the figures convert times once and slice them per instance, and
  the digest hashes each column's bytes. The store keeps a read of some services for the frames'
  versions: before, a source without the frame (the derived ones) made every such read a miss, so each
  page filtered its partitions again. Run alternately with the code before at 1,000 services, with the
  same answer byte for byte but for the digest, CPU p50 went from 34.3 and 33.2 ms to 18.4 and 17.7 ms
  (/service, p95 36.2 and 35.1 to 22.9 and 19.9 ms, load 2.3 to 3.5), and from 21.7 and 22.5 to 17.0 and
  16.5 ms (/trace, which draws its instances the same way).
- Anomaly learning runs on a thread of its own, one at a time in a process (`dashboard/core/derived.py`):
  a serving poller judges nothing until a source's first model is learnt, and the model before a
  relearn judges until the relearn is done. Before, at 1,000 services a poller's first learning (about
  four minutes under the production set-up's load) held up its source's polls and the wall's views, so
  each web worker computed the views itself from the whole estate for the first viewers, and its
  resident memory stayed where that decoding took it.
- The callback rows (the wall refresh and the drill-downs) are timed with the garbage collector as a
  production worker has it (`callbacks.as_worker`: what the process holds after loading and warming up
  frozen, as `dashboard/gunicorn_conf.py` does), so a full collection does not walk the set-up's objects.
- Source queries per minute come from the pollers alone: the same for 100 viewers as for 1
  (the variation is where poll boundaries fall in a one-minute window).
- Prometheus poll at 1,000 services: with the raw queries it misses its 2 s target, as three
  `histogram_quantile` range queries over about 24,000 bucket series take most of Prometheus's time
  (and that figure swings with the machine's load). From the series of the adapter's recording rules
  (`opscenter prometheus-rules`, [operations.md](operations.md#prometheus-recording-rules)) the same
  poll reads 1,000 series per column and meets it, with the same rows. The rules cost Prometheus one
  instant evaluation of those expressions per evaluation interval, where each poll asked for 61 steps.
  In the benchmark promtool backfills the recorded series (`promtool tsdb create-blocks-from rules`).
- Web worker memory on the production set-up (`make soak`, 1,000 services, 50 viewers): with
  glibc's default arenas a worker's median went from 768 MB in the second minute to 947 MB at
  half-time. With `MALLOC_ARENA_MAX=2` and a memo that keeps two versions per panel, a ten-minute
  run stayed at about 700 MB, but in a 30-minute run one worker went 634-685 MB (median of each two
  minutes) for 16 minutes, then 720-770 MB for the rest (+7% between the halves' medians). Adding
  `MALLOC_MMAP_THRESHOLD_=131072`, which stops glibc raising its mmap threshold after large frees
  (large arrays are then mapped, and returned to the system when freed), the 30-minute run recorded
  in [reliability.md](reliability.md#soak) kept both workers at about 600 MB, +0.9% between the
  halves' medians. `deploy/production.sh` sets both.
- Web worker memory, loading and serving (measured on 2026-12-06 in a worker process of its own over a
  1,000-service demo estate that a poller polls into Redis every 15 s, serving the wall refresh and the /chain,
  /service and /trace pages from four threads for a minute or two, with `deploy/production.sh`'s glibc
  settings): loading `dashboard.wsgi` took 252 MB, now 235 MB, as a worker no longer loads Alembic (with Mako
  and Pygments: only `History.migrate` imports it) nor ReportLab (the PDF reports are modules of their own,
  imported by the download). While serving, the worker went to 570-635 MB after each poll: between a poll and
  the derivation that follows it the chain page computed its steps-now views from the newest frames, decoding
  the estate's resource and service metrics (120 MB); it now reads the versions the stored views come from
  (`views.drawn_versions`), as the wall does, and the worker stayed at 350-413 MB. Arrow's bundled mimalloc kept
  the pages of the buffers a worker decodes and frees resident: with the system allocator
  (`dashboard/gunicorn_conf.py`) the same run stays at 296-309 MB (load average 2.3 to 3.9 throughout). Of the
  235 MB loaded, pandas with pyarrow and numpy take 127 MB (pandas imports `pyarrow.compute`, whose libraries
  are 53 MB resident), Dash 20 MB, SQLAlchemy 11 MB and exchange_calendars 8 MB; dash-mantine-components took 16 MB
  (and a megabyte of script in every browser) for a provider no page used: without it a worker loads in 219 MB
  (its calendars are read by the wall's panels, so a worker would load it at the first refresh anyway). Of what
  serving adds, 28 MB were the Redis values of the partitions a worker had decoded, which the decoded frames'
  string columns kept, as Arrow decodes them without copying: the store now keeps a partition as read and
  copies out the rows a page asks for. A worker imports only the adapters it is configured with (the
  registry maps each built-in kind to its module), and the incident pages take their services' health from
  the poller's views (the estate's metrics only when those are behind), as the wall does.
- Learning memory (`python -m bench.history_memory 1000`, not run by `make bench`: a 1,000-service
  week read through the Prometheus source takes about 17 minutes here, and the figure changes only
  with how history is read or learnt, so run it after such a change and keep its row): on
  2026-12-06 the Prometheus source reading a week of 1,000 services and learning from it peaked at
  1,266 MB, the demo generating the same week and learning at 1,504 MB (the same rows and 115,578
  baselines on both sides; load average 8.8 to 4.6). Before, 1,810 against 1,763 MB: the chunks were
  kept as frames until joined, and learning split the week into a second copy, one frame per batch.

## The regression guard

`make bench-check` (run by CI after the suite, `bench/check.py`) polls a 1,000-service demo estate and
measures, in CPU time, a poll with its derived step (anomalies, the wall's views: at 1,000 services
mostly the anomaly scoring), the wall refresh for the first viewer after a poll (a worker reading
the views from Redis) and the chain, service and trace pages, each divided by one pandas group-by
over the estate's resource frame timed in the same run. A ratio more than twice its value in
`bench/reference.json` fails the check and names the measure. `make bench` records the ratios anew with
these figures; so does `python -m bench.check --record` after a change that is slower on purpose.
"""


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    rows = (
        store.run()
        + prometheus.run()
        + callbacks.run()
        + drilldown.run(100)
        + drilldown.run(1000)
        + wall.run()
        + production.run()
        + scale.run()
        + anomaly.run()
    )
    lines = [
        "# Performance",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.",
        "",
        "| benchmark | median ms | detail |",
        "| --- | ---: | --- |",
        *[f"| {r['benchmark']} | {r['median_ms']} | {r['detail']} |" for r in rows],
    ]
    REPORT.write_text("\n".join(lines) + "\n" + NOTES)
    check.record(check.measure())  # the regression guard's reference follows the figures
    print("\n".join(lines))


if __name__ == "__main__":
    main()
