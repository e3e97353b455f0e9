"""Real ``chaos run`` journals read by the chaostoolkit source.

Four experiments run once per session against small HTTP services on loopback: one
passes, one breaks its service (deviated), one finds its service already broken (the
before-check fails) and one kills its service so the after-check probe raises.
"""

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from datasources.chaos.chaostoolkit import ChaosToolkitSource
from tests.conftest import need


def chaos_command() -> str | None:
    """The venv's ``chaos`` next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).with_name("chaos")
    return str(beside) if beside.exists() else shutil.which("chaos")


class Target:
    """A service on a loopback port: GET /health answers 200 while healthy, else 503;
    POST /break makes it unhealthy, POST /kill stops it, any other POST does nothing."""

    def __init__(self, healthy: bool = True):
        self.healthy, self.stopped = healthy, False
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if target.healthy else 503)
                self.end_headers()

            def do_POST(self):
                self.send_response(200)
                self.end_headers()
                if self.path == "/break":
                    target.healthy = False
                elif self.path == "/kill":
                    threading.Thread(target=target.stop).start()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()


def experiment(title: str, target: Target, action: str, **labels) -> dict:
    health = {
        "type": "probe",
        "name": "health",
        "tolerance": 200,
        "provider": {"type": "http", "url": f"{target.url}/health", "timeout": 2},
    }
    return {
        "title": title,
        "description": title,
        **labels,
        "steady-state-hypothesis": {"title": "the service answers", "probes": [health]},
        "method": [
            {
                "type": "action",
                "name": action,
                "provider": {"type": "http", "url": f"{target.url}/{action}", "method": "POST", "timeout": 2},
            }
        ],
    }


@pytest.fixture(scope="session")
def journals(tmp_path_factory):
    """Run the four experiments once (in parallel); yield the journals' directory."""
    chaos = chaos_command()
    if chaos is None:
        need("chaostoolkit", "install the project's test extras (pip install -e '.[test]')")
    work = tmp_path_factory.mktemp("chaostoolkit")
    out = work / "journals"
    out.mkdir()
    (work / "settings.yaml").write_text("{}\n")
    targets = {"pass": Target(), "deviate": Target(), "broken": Target(healthy=False), "raise": Target()}
    experiments = {
        "pass": experiment(
            "quote-service survives a restart",
            targets["pass"],
            "restart",
            tags=["service:quote-service", "fault:pod-restart"],
        ),
        "deviate": experiment(
            "order-gateway survives a dependency outage",
            targets["deviate"],
            "break",
            tags=["service=order-gateway", "fault:dependency-outage"],
        ),
        "broken": experiment(
            "pretrade-risk survives latency",
            targets["broken"],
            "restart",
            extensions=[{"name": "opscenter", "service": "pretrade-risk", "fault": "latency"}],
        ),
        "raise": experiment("clearing survives losing its only instance", targets["raise"], "kill"),
    }
    runs = {}
    for name, body in experiments.items():
        (work / f"{name}.json").write_text(json.dumps(body))
        runs[name] = subprocess.Popen(
            [
                chaos,
                "--no-version-check",
                "--no-log-file",
                "--settings",
                str(work / "settings.yaml"),
                "run",
                "--journal-path",
                str(out / f"{name}.json"),
                str(work / f"{name}.json"),
            ],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for name, proc in runs.items():
        output, _ = proc.communicate(timeout=120)
        assert (out / f"{name}.json").exists(), f"{name}: no journal\n{output}"
    yield out
    for target in targets.values():
        if not target.stopped:
            target.stop()


@pytest.fixture(scope="session")
def runs(journals):
    source = ChaosToolkitSource(
        name="ctk",
        options={"path": str(journals), "services": {"clearing survives losing its only instance": "clearing"}},
    )
    frame = source.fetch(None)["chaos_runs"]
    assert source.rejected == {}
    return frame.set_index("run_id")


def test_passing_run(runs):
    run = runs.loc["pass"]
    assert (run.status, run.deviated, run.service, run.fault) == ("passed", False, "quote-service", "pod-restart")
    assert run.probe_success_ratio == 1.0 and run.x_reason is None and run.x_native_status == "completed"
    assert 0 <= run.recovery_s < 30 and run.started_at < run.ended_at


def test_deviated_run_is_a_failed_hypothesis(runs):
    run = runs.loc["deviate"]
    assert (run.status, run.deviated, run.service) == ("failed", True, "order-gateway")
    assert run.probe_success_ratio == 0.5 and pd.isna(run.recovery_s)
    assert "deviated" in run.x_reason and "'health' not within tolerance" in run.x_reason


def test_failed_before_check_is_not_run(runs):
    run = runs.loc["broken"]
    assert run.x_native_status == "completed"  # Chaos Toolkit's word for it
    assert (run.status, run.deviated, run.service, run.fault) == ("not_run", False, "pretrade-risk", "latency")
    assert pd.isna(run.probe_success_ratio) and "before the method" in run.x_reason


def test_probe_that_raises(runs):
    run = runs.loc["raise"]
    assert (run.status, run.deviated, run.service, run.fault) == ("failed", True, "clearing", "kill")
    assert run.x_native_status == "failed" and "'health' raised ActivityFailed" in run.x_reason


def test_journals_read_incrementally(journals, tmp_path):
    for journal in journals.iterdir():
        shutil.copy2(journal, tmp_path / journal.name)
    source = ChaosToolkitSource(name="ctk", options={"path": str(tmp_path)})
    assert len(source.fetch(None)["chaos_runs"]) == 4
    (tmp_path / "late.json").write_text((journals / "pass.json").read_text())
    (tmp_path / "cut.json").write_text((journals / "deviate.json").read_text()[:300])
    frame = source.fetch(None)["chaos_runs"]
    assert set(frame["run_id"]) == {"pass", "deviate", "broken", "raise", "late"}
    assert list(source.rejected) == ["cut.json"] and "truncated JSON" in source.rejected["cut.json"]
