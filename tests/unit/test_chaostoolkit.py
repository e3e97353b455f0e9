"""Chaos Toolkit journals -> chaos_runs: status mapping, labels, and rejected files."""

import json
import os

import pandas as pd
import pytest

from datasources import registry
from datasources.chaos import RejectedFile, chaostoolkit
from datasources.chaos.chaostoolkit import ChaosToolkitSource, run_record


def probe(name="health", status="succeeded", tolerance_met=True, end="2026-11-18T02:00:10", exception=None):
    result = {"activity": {"type": "probe", "name": name}, "status": status, "end": end, "tolerance_met": tolerance_met}
    if exception:
        result["exception"] = ["Traceback (most recent call last):\n", exception]
    return result


def journal(status="completed", deviated=False, before=True, after=True, run=True, **experiment):
    action = {"activity": {"type": "action", "name": "kill-pod"}, "status": "succeeded", "end": "2026-11-18T02:00:05"}
    return {
        "experiment": {
            "title": "survives a pod kill",
            "method": [{"type": "action", "name": "kill-pod"}],
            **experiment,
        },
        "start": "2026-11-18T02:00:00",
        "end": "2026-11-18T02:00:20",
        "status": status,
        "deviated": deviated,
        "steady_states": {
            "before": {"steady_state_met": before, "probes": [probe(tolerance_met=before)]},
            "after": None if after is None else {"steady_state_met": after, "probes": [probe(tolerance_met=after)]},
            "during": [],
        },
        "run": [action] if run else [],
    }


def record(payload, services=None, weights=None):
    return run_record(payload, "run-1", services or {}, weights or {}, "ctk")


def test_completed_not_deviated_passes():
    run = record(journal(tags=["service:quote-service"]))
    assert (run["status"], run["deviated"], run["probe_success_ratio"]) == ("passed", False, 1.0)
    assert run["recovery_s"] == 5.0 and run["started_at"] == pd.Timestamp("2026-11-18T02:00:00", tz="UTC")
    assert (run["service"], run["fault"], run["x_weight"]) == ("quote-service", "kill-pod", 10.0)


def test_deviated_is_failed():
    run = record(journal(deviated=True, after=False))
    assert (run["status"], run["deviated"], run["probe_success_ratio"], run["recovery_s"]) == (
        "failed",
        True,
        0.5,
        None,
    )
    assert run["x_reason"] == "steady state deviated: probe 'health' not within tolerance"


def test_before_check_failing_is_not_run_even_when_completed():
    run = record(journal(before=False, after=None, run=False))
    assert (run["status"], run["x_native_status"], run["probe_success_ratio"]) == ("not_run", "completed", None)


@pytest.mark.parametrize("native", ["aborted", "interrupted"])
def test_aborted_and_interrupted_keep_the_reason(native):
    run = record(journal(status=native, after=None))
    assert (run["status"], run["x_native_status"], run["x_reason"]) == ("aborted", native, f"run {native}")


def test_failed_activity_reason_is_the_exception():
    payload = journal(status="failed")
    payload["run"].append(probe("read-db", "failed", None, exception="chaoslib.exceptions.ActivityFailed: boom\n"))
    run = record(payload)
    assert (run["status"], run["x_reason"]) == ("failed", "run failed: probe 'read-db' raised ActivityFailed: boom")
    assert run["probe_success_ratio"] == pytest.approx(2 / 3)


def test_service_from_extension_then_mapping():
    ext = [{"name": "opscenter", "service": "quote-svc", "fault": "cpu-hog"}]
    assert record(journal(tags=["service:other"], extensions=ext))["service"] == "quote-svc"
    assert record(journal(extensions=ext))["fault"] == "cpu-hog"
    assert record(journal(extensions=ext), {"quote-svc": "quote-service"})["service"] == "quote-service"
    assert record(journal(), {"survives a pod kill": "ledger"})["service"] == "ledger"
    assert record(journal())["service"] is None


def test_fault_weight_from_options():
    assert record(journal(), weights={"kill-pod": 4})["x_weight"] == 4.0


@pytest.mark.parametrize(
    "payload, reason",
    [
        ([], "expected a JSON object"),
        ({"experiment": {}}, "no 'status', 'start'"),
        ({**journal(), "status": "exploded"}, "unknown journal status 'exploded'"),
        ({**journal(), "start": "yesterday-ish"}, "is not a timestamp"),
    ],
)
def test_not_a_journal(payload, reason):
    with pytest.raises(RejectedFile, match=reason):
        record(payload)


def test_directory_rejects_bad_files_and_keeps_the_others(tmp_path, caplog):
    good = json.dumps(journal())
    (tmp_path / "good.json").write_text(good)
    (tmp_path / "truncated.json").write_text(good[: len(good) // 2])
    (tmp_path / "malformed.json").write_text('{"status": completed}')
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "notes.txt").write_text("not a journal")
    source = ChaosToolkitSource(name="ctk", options={"path": str(tmp_path)})
    frame = source.fetch(None)["chaos_runs"]
    assert list(frame["run_id"]) == ["good"]
    assert sorted(source.rejected) == ["empty.json", "malformed.json", "truncated.json"]
    assert source.rejected["truncated.json"].startswith("truncated.json: truncated JSON at line 1")
    assert source.rejected["malformed.json"].startswith("malformed.json: malformed JSON")
    assert "rejected truncated.json" in caplog.text
    health = source.check()
    assert not health.ok and "rejected 3" in health.detail


def test_directory_rereads_only_new_or_changed_files(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_text(json.dumps(journal()))
    source = ChaosToolkitSource(name="ctk", options={"path": str(tmp_path)})
    read = []
    monkeypatch.setattr(
        chaostoolkit, "read_journal", lambda path, real=chaostoolkit.read_journal: read.append(path.name) or real(path)
    )
    source.fetch(None)
    source.fetch(None)
    assert read == ["a.json"]
    (tmp_path / "a.json").write_text(json.dumps(journal(deviated=True, after=False)))
    os.utime(tmp_path / "a.json", ns=(1, 1))
    (tmp_path / "b.json").write_text(json.dumps(journal()))
    frame = source.fetch(None)["chaos_runs"].set_index("run_id")
    assert read == ["a.json", "a.json", "b.json"] and frame.loc["a", "status"] == "failed"
    (tmp_path / "a.json").unlink()
    assert list(source.fetch(None)["chaos_runs"]["run_id"]) == ["b"]


def test_registered_and_path_required(tmp_path):
    assert registry.build({"kind": "chaostoolkit", "name": "ctk", "path": str(tmp_path)}).kind == "chaostoolkit"
    with pytest.raises(ValueError, match="'path'"):
        registry.build({"kind": "chaostoolkit", "name": "ctk"})
    missing = ChaosToolkitSource(name="ctk", options={"path": str(tmp_path / "nope")})
    assert not missing.check().ok and "not a directory" in missing.check().detail


def test_a_drill_names_its_preplan_by_tag_or_extension():
    assert record(journal(tags=["preplan:market-data-stall"]))["x_preplan"] == "market-data-stall"
    ext = [{"name": "opscenter", "preplan": "site-failover"}]
    assert record(journal(tags=["preplan:other"], extensions=ext))["x_preplan"] == "site-failover"
    assert record(journal())["x_preplan"] is None
