"""Chaos Mesh experiments -> chaos_runs, on recorded resources."""

from pathlib import Path

import pandas as pd
import pytest

from datasources.chaos.chaosmesh import ChaosMeshSource, fault_name

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "chaosmesh"


@pytest.fixture(scope="module")
def runs():
    source = ChaosMeshSource(name="mesh", options={"path": str(FIXTURES), "services": {"og": "order-gateway"}})
    frame = source.fetch(None)["chaos_runs"]
    assert source.rejected == {}
    return frame.set_index("experiment")


def test_injected_and_recovered_is_passed(runs):
    run = runs.loc["quote-pod-kill"]
    assert (run.status, run.service, run.fault, run.deviated) == ("passed", "quote-service", "pod-kill", False)
    assert run.started_at == pd.Timestamp("2026-11-17T09:00:01Z") and run.ended_at == pd.Timestamp(
        "2026-11-17T09:00:31Z"
    )
    assert pd.isna(run.probe_success_ratio) and pd.isna(run.recovery_s)


def test_still_injected_is_running(runs):
    run = runs.loc["gateway-delay"]
    assert (run.status, run.service, run.fault) == ("running", "order-gateway", "network-delay")
    assert pd.isna(run.ended_at)


def test_not_recovered_is_failed(runs):
    run = runs.loc["ledger-cpu"]
    assert (run.status, run.service, run.fault) == ("failed", "ledger", "stress")
    assert run.x_reason == "not recovered: post-trade/ledger-0; post-trade/ledger-0 failed: container not found"


def test_nothing_selected_is_not_run(runs):
    run = runs.loc["kyc-pod-failure"]
    assert (run.status, run.x_reason) == ("not_run", "no pod is selected")


@pytest.mark.parametrize(
    "kind, action, fault",
    [
        ("PodChaos", "pod-kill", "pod-kill"),
        ("NetworkChaos", "delay", "network-delay"),
        ("StressChaos", None, "stress"),
        ("IOChaos", "latency", "io-latency"),
    ],
)
def test_fault_name(kind, action, fault):
    assert fault_name(kind, action) == fault


def test_not_a_chaos_mesh_resource_is_rejected(tmp_path):
    (tmp_path / "cm.yaml").write_text("kind: ConfigMap\nmetadata: {name: settings, namespace: ns}\n")
    source = ChaosMeshSource(name="mesh", options={"path": str(tmp_path)})
    assert source.fetch(None)["chaos_runs"].empty
    assert source.rejected == {"cm.yaml": "cm.yaml: ns/settings: kind 'ConfigMap' is not a Chaos Mesh experiment"}


def test_unknown_kind_option():
    with pytest.raises(ValueError, match="option 'kinds.1': must be 'podchaos', 'networkchaos'"):
        ChaosMeshSource(name="mesh", options={"kinds": ["podchaos", "gremlins"]})
