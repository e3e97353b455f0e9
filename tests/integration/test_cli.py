"""The opscenter command: snapshot writes every contract frame; check fails clearly on a broken config."""

import subprocess
import sys

import pandas as pd

from datasources.base import COMMAND_FRAMES, FRAME_NAMES, validate


def opscenter(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_snapshot_writes_every_contract_frame(tmp_path):
    out = tmp_path / "snap"
    result = opscenter("snapshot", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in out.glob("*.parquet")) == sorted(FRAME_NAMES)
    for name in FRAME_NAMES:
        frame = validate(name, pd.read_parquet(out / f"{name}.parquet"))
        # log lines are read on demand; anomalies are empty while nothing is anomalous; opscenter's own frames
        # come from the history database, which a snapshot does not open; business figures flow, and the budgets'
        # days count, only in session, and the freeze breaches are changes made in a freeze (none in a weekend);
        # the default roster names no ITSM on-call group
        moment = ("business_metrics", "slo_days", "freeze_breaches")
        assert len(frame) > 0 or name in ("log_lines", "anomalies", "on_call", *COMMAND_FRAMES, *moment), name
    status = pd.read_parquet(out / "source_status.parquet")
    assert status["source"].tolist() == ["demo"] and status["ok"].all()


def test_check_passes_on_the_default_config():
    result = opscenter("check")
    assert result.returncode == 0, result.stderr
    assert "ok   demo (demo)" in result.stdout


def test_check_names_key_and_line_of_a_broken_config(tmp_path):
    config = tmp_path / "broken.yaml"
    config.write_text("sources:\n  - kind: demo\n    name: demo\n    interval_s: -5\n")
    result = opscenter("check", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}:4: sources.0.interval_s: must be greater than 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_fails_when_a_source_fails(tmp_path):
    config = tmp_path / "failing.yaml"
    config.write_text("sources:\n  - {kind: demo, name: demo, fail: true}\n")
    result = opscenter("check", "--config", str(config))
    assert result.returncode == 1
    assert "FAIL demo (demo)" in result.stdout


def test_check_names_a_preplan_that_does_not_load_and_fails(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "gateway.yaml").write_text("id: gateway-down\nversion: 1\ntitle: t\nservices: [x]\nsteps: []\n")
    config = tmp_path / "config.yaml"
    config.write_text("sources: [{kind: demo, name: demo}]\npreplans: {path: plans}\n")
    result = opscenter("check", "--config", str(config))
    assert result.returncode == 1
    assert f"FAIL pre-plan: {plans / 'gateway.yaml'}:5: steps: " in result.stdout
    assert "0 pre-plan version(s), 1 problem(s)" in result.stdout
