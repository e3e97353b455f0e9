#!/usr/bin/env bash
# A real Prometheus scraping the demo exporter, and the dashboard reading that Prometheus.
# Everything listens on 127.0.0.1; Prometheus keeps its data in a temporary directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PROMETHEUS=${PROMETHEUS:-prometheus}
EXPORTER_PORT=${EXPORTER_PORT:-9464}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
DASHBOARD_PORT=${DASHBOARD_PORT:-8050}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export OPSCENTER_DEMO_PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT"
# The adapter's recording rules: the dashboard reads their series once they cover its window (recorded: auto).
"$BIN/opscenter" prometheus-rules --config examples/prometheus-demo.yaml > "$work/opscenter-rules.yml"

cat > "$work/prometheus.yml" <<YAML
global: {scrape_interval: 5s, evaluation_interval: 15s}
rule_files: ["$work/opscenter-rules.yml"]
scrape_configs:
  - job_name: demo-estate
    honor_labels: true
    static_configs: [{targets: ["127.0.0.1:$EXPORTER_PORT"]}]
YAML

"$BIN/opscenter" demo-exporter --port "$EXPORTER_PORT" &
pids+=($!)
"$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --enable-feature=exemplar-storage >"$work/prometheus.log" 2>&1 &
pids+=($!)

echo "demo exporter http://127.0.0.1:$EXPORTER_PORT/metrics, Prometheus $OPSCENTER_DEMO_PROMETHEUS_URL," \
  "dashboard http://127.0.0.1:$DASHBOARD_PORT/wall (Ctrl-C stops all three)"
"$BIN/opscenter" run --config examples/prometheus-demo.yaml --port "$DASHBOARD_PORT" &
pids+=($!)
wait "$!"
