"""LitmusChaos ChaosResults -> chaos_runs, on recorded resources."""

from pathlib import Path

import pandas as pd
import pytest

from datasources.chaos import RejectedFile
from datasources.chaos.kubernetes import exported_resources
from datasources.chaos.litmus import LitmusSource, probe_ratio, run_record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "litmus"


@pytest.fixture(scope="module")
def runs():
    source = LitmusSource(name="litmus", options={"path": str(FIXTURES), "services": {"ledger-deploy": "ledger"}})
    frame = source.fetch(None)["chaos_runs"]
    assert source.rejected == {}
    return frame.set_index("experiment")


def test_pass(runs):
    run = runs.loc["quote-engine-pod-delete"]
    assert (run.status, run.deviated, run.probe_success_ratio, run.service) == ("passed", False, 1.0, "quote-service")
    assert run.run_id == "5f0c6a1e-2b7d-4c1e-9a43-0d1f3e6b7a11" and run.fault == "pod-delete"
    assert run.ended_at == pd.Timestamp("2026-11-17T06:02:41Z") and run.x_reason is None
    assert (run.x_runs_passed, run.x_runs_failed, run.x_native_status) == (4, 1, "Completed/Pass")


def test_fail_is_deviated_with_failed_probes(runs):
    run = runs.loc["ledger-engine-pod-network-latency"]
    assert (run.status, run.deviated, run.probe_success_ratio, run.service) == ("failed", True, 0.5, "ledger")
    assert "probe 'ledger-latency-slo' (promProbe, Edge) failed: Result of promProbe: 912 > 500" in run.x_reason
    assert run.x_reason.startswith("failed step: Probe execution")


def test_awaited_is_running(runs):
    run = runs.loc["kyc-engine-pod-cpu-hog"]
    assert run.status == "running" and pd.isna(run.probe_success_ratio) and pd.isna(run.ended_at)


def test_stopped_is_aborted_with_the_error(runs):
    run = runs.loc["margin-engine-pod-memory-hog"]
    assert (run.status, run.service) == ("aborted", "margin-core")
    assert run.x_reason == "error STATUS_CHECKS_ERROR: application pods are not in running state"


@pytest.mark.parametrize("value, ratio", [("100", 1.0), ("62.5", 0.625), ("0", 0.0), ("Awaited", None), (None, None)])
def test_probe_success_percentage_is_a_string(value, ratio):
    assert probe_ratio(value) == ratio


@pytest.mark.parametrize("value", ["lots", "120"])
def test_bad_probe_success_percentage(value):
    with pytest.raises(RejectedFile, match="probeSuccessPercentage"):
        probe_ratio(value)


def test_mapping_by_engine_and_weights():
    result = exported_resources(FIXTURES / "chaosresults.yaml")[0]
    run = run_record(result, {"quote-engine": "quote-gw"}, {"pod-delete": 3}, "litmus")
    assert (run["service"], run["x_weight"]) == ("quote-gw", 3.0)


def test_bad_result_rejected_by_file_and_name(tmp_path):
    (tmp_path / "good.json").write_text((FIXTURES / "stopped.json").read_text())
    (tmp_path / "bad.yaml").write_text(
        "kind: ChaosResult\nmetadata: {name: half, namespace: ns, creationTimestamp: '2026-11-17T00:00:00Z'}\n"
        "status: {experimentStatus: {phase: Completed}}\n"
    )
    (tmp_path / "broken.yaml").write_text("kind: ChaosResult\nmetadata: {name: [unclosed\n")
    source = LitmusSource(name="litmus", options={"path": str(tmp_path)})
    assert len(source.fetch(None)["chaos_runs"]) == 1
    assert (
        source.rejected["bad.yaml"] == "bad.yaml: ns/half: status.experimentStatus.verdict None is not one of "
        "Pass, Fail, Stopped, Error, Awaited"
    )
    assert source.rejected["broken.yaml"].startswith("broken.yaml: not valid YAML")
