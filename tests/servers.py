"""Real Prometheus, VictoriaMetrics, Alertmanager and node_exporter as plain processes on free loopback ports.

Each helper is a context manager yielding the server's base URL; the process is
stopped by its PID on exit and its storage lives under the given directory.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests.conftest import free_port, need

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
PROMTOOL = "/usr/bin/promtool"
VICTORIA_METRICS = "/usr/bin/victoria-metrics"


def wait_until(probe, timeout_s: float, what: str, interval_s: float = 0.05):
    """Call ``probe`` until it returns something truthy; AssertionError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s:g} s")
        time.sleep(interval_s)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _binary(path: str, name: str) -> str:
    if not Path(path).exists() and not shutil.which(Path(path).name):
        need(name, f"{path} is not installed (Debian package {Path(path).name})")
    return path if Path(path).exists() else shutil.which(Path(path).name)


@contextmanager
def _process(argv: list[str], ready_url: str, log_path: Path, what: str):
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(ready_url) or process.poll() is not None, 20, f"{what} ready")
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def backfill(openmetrics: str, data_dir: Path, max_block_duration: str = "2h") -> None:
    """Write OpenMetrics text (ending in '# EOF') as TSDB blocks of at most ``max_block_duration`` into
    ``data_dir`` (days of history are written about ten times faster in blocks of a day)."""
    source = data_dir.parent / f"{data_dir.name}.om"
    source.write_text(openmetrics)
    data_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            _binary(PROMTOOL, "promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            f"--max-block-duration={max_block_duration}",
            str(source),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr or result.stdout
    source.unlink()


def backfill_rules(url: str, rule_file: Path, start_s: int, end_s: int, data_dir: Path) -> None:
    """Evaluate the recording rules of ``rule_file`` every minute from ``start_s`` to ``end_s`` on the
    Prometheus at ``url`` and write the recorded series as TSDB blocks into ``data_dir`` (a Prometheus
    started on that directory afterwards reads them)."""
    result = subprocess.run(
        [
            _binary(PROMTOOL, "promtool"),
            "tsdb",
            "create-blocks-from",
            "rules",
            f"--url={url}",
            f"--start={start_s}",
            f"--end={end_s}",
            "--eval-interval=60s",
            f"--output-dir={data_dir}",
            str(rule_file),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr or result.stdout


@contextmanager
def prometheus(
    workdir: Path,
    targets: tuple[str, ...] = (),
    data_dir: Path | None = None,
    scrape_interval: str = "1s",
    extra_args: tuple[str, ...] = (),
    retention: str = "30d",
    rule_files: tuple[Path, ...] = (),
):
    """Prometheus scraping ``targets`` (host:port, labels honoured) with its TSDB in ``data_dir``, keeping
    ``retention`` before its newest sample, evaluating ``rule_files`` at the scrape interval."""
    binary = _binary(PROMETHEUS, "Prometheus")
    port = free_port()
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": [{"job_name": "estate", "honor_labels": True, "static_configs": [{"targets": list(targets)}]}]
        if targets
        else [],
        "rule_files": [str(path) for path in rule_files],
    }
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    data_dir = data_dir or workdir / "prometheus-data"
    argv = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--storage.tsdb.retention.time={retention}",
        *extra_args,
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(argv, f"{url}/-/ready", workdir / "prometheus.log", "Prometheus"):
        yield url


@contextmanager
def victoria_metrics(workdir: Path):
    """Single-node VictoriaMetrics with its storage in ``workdir``, keeping samples of any age (history is
    imported with ``import_openmetrics``); yields its base URL, which answers the Prometheus query API."""
    binary = _binary(VICTORIA_METRICS, "VictoriaMetrics")
    port = free_port()
    argv = [
        binary,
        f"-storageDataPath={workdir / 'victoria-metrics-data'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        "-retentionPeriod=100y",
        "-search.disableCache",
        "-loggerLevel=WARN",
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(argv, f"{url}/health", workdir / "victoria-metrics.log", "VictoriaMetrics"):
        yield url


def import_openmetrics(url: str, openmetrics: str) -> None:
    """Import OpenMetrics text (timestamps in seconds) into the VictoriaMetrics at ``url`` through its
    Prometheus text import (timestamps in milliseconds) and wait until every series is searchable."""
    samples, series, last_s = [], set(), 0.0
    for line in openmetrics.splitlines():
        if line and not line.startswith("#"):
            head, ts = line.rsplit(" ", 1)
            samples.append(f"{head} {round(float(ts) * 1000)}")
            series.add(head.rsplit(" ", 1)[0])
            last_s = max(last_s, float(ts))
    body = gzip.compress("\n".join(samples + [""]).encode())
    request = urllib.request.Request(
        f"{url}/api/v1/import/prometheus", data=body, headers={"Content-Encoding": "gzip"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.status == 204, response.read()
    with urllib.request.urlopen(f"{url}/internal/force_flush", timeout=30):
        pass
    query = urllib.parse.urlencode({"query": 'count({__name__=~".+"})', "time": last_s})

    def searchable() -> bool:
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as response:
            result = json.load(response)["data"]["result"]
        return bool(result) and int(result[0]["value"][1]) == len(series)

    wait_until(searchable, 30, f"{len(series)} imported series searchable", interval_s=0.2)


@contextmanager
def alertmanager(workdir: Path):
    """Alertmanager with one null receiver, clustering off, storage in ``workdir``.

    ServiceDown inhibits the warnings of the same service.
    """
    binary = _binary(ALERTMANAGER, "Alertmanager")
    port = free_port()
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "route": {"receiver": "null", "group_wait": "1s"},
                "receivers": [{"name": "null"}],
                "inhibit_rules": [
                    {
                        "source_matchers": ['alertname="ServiceDown"'],
                        "target_matchers": ['severity="warning"'],
                        "equal": ["service"],
                    }
                ],
            }
        )
    )
    argv = [
        binary,
        f"--config.file={config_path}",
        f"--storage.path={workdir / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(argv, f"{url}/-/ready", workdir / "alertmanager.log", "Alertmanager"):
        yield url


@contextmanager
def node_exporter(workdir: Path):
    """node_exporter with only the cpu, meminfo and netdev collectors; yields host:port."""
    binary = _binary(NODE_EXPORTER, "node_exporter")
    port = free_port()
    argv = [
        binary,
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.cpu",
        "--collector.meminfo",
        "--collector.netdev",
    ]
    with _process(argv, f"http://127.0.0.1:{port}/metrics", workdir / "node_exporter.log", "node_exporter"):
        yield f"127.0.0.1:{port}"


def histogram_backfill(
    shares: dict[str, Callable[[float], float]],
    end_s: int,
    minutes: int,
    requests_per_s: float = 100.0,
    error_ratio: float = 0.02,
    step_s: int = 60,
    quiet: tuple[str, ...] = (),
) -> str:
    """OpenMetrics history of ``http_server_request_duration_seconds`` with known latency distributions.

    ``shares[service](bound_s)`` is the share of requests at or under ``bound_s``; each service
    takes ``requests_per_s`` (none for ``quiet`` ones), ``error_ratio`` of them with status 500.
    Ends with '# EOF'.
    """
    from datasources.demo.exporter import BUCKETS, HISTOGRAM, histogram_lines

    times = range(end_s - minutes * 60, end_s + 1, step_s)
    lines = [f"# TYPE {HISTOGRAM} histogram"]
    for service, share in shares.items():
        cdf = [share(b) for b in BUCKETS] + [1.0]
        load = 0.0 if service in quiet else requests_per_s
        for status, rate in (("200", load * (1 - error_ratio)), ("500", load * error_ratio)):
            labels = {"service": service, "instance": f"{service}-1", "http_response_status_code": status}
            for i, ts in enumerate(times):
                total = rate * step_s * i
                lines += histogram_lines(HISTOGRAM, labels, [round(total * c) for c in cdf], total * 0.1, ts=ts)
    return "\n".join(lines + ["# EOF", ""])
