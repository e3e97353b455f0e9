#!/usr/bin/env bash
# The production set-up on one machine: gunicorn web workers and pollers sharing Redis and
# PostgreSQL, all on loopback. Ctrl-C (or SIGTERM) stops every process it started.
# Metrics: the workers' on http://127.0.0.1:PORT/metrics (one scrape counts every worker), each
# poller's on its own port from POLL_METRICS_PORT up (9465, 9466, ...; 0: none).
#   PORT (8050), WORKERS (4), THREADS (4 per worker), POLLERS (2), POLL_METRICS_PORT (9465), OPSCENTER_CONFIG,
#   OPSCENTER_REDIS_URL, OPSCENTER_DATABASE_URL, MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ override the
#   defaults.
set -euo pipefail
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8050}
WORKERS=${WORKERS:-4}
THREADS=${THREADS:-4}
POLLERS=${POLLERS:-2}
POLL_METRICS_PORT=${POLL_METRICS_PORT:-9465}
export OPSCENTER_REDIS_URL=${OPSCENTER_REDIS_URL:-redis://127.0.0.1:6379/0}
export OPSCENTER_DATABASE_URL=${OPSCENTER_DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/opscenter}
# glibc gives each thread that allocates its own arena, and raises its mmap threshold after large
# frees, so threads that decode large frames in turn leave freed memory in the heaps and a worker's
# resident size creeps up. Two arenas and a fixed threshold (large arrays mapped, and returned to
# the system when freed) keep it flat.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072}

"$BIN/python" -m dashboard.db.migrate
# The workers' metrics files, private to this run (gunicorn_conf empties the directory at start too).
metrics_dir=$(mktemp -d -t opscenter-metrics.XXXXXX)
unset PROMETHEUS_MULTIPROC_DIR
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait; rm -rf "$metrics_dir"' EXIT INT TERM
for i in $(seq 0 $((POLLERS - 1))); do
  "$BIN/opscenter" poll --metrics-port $((POLL_METRICS_PORT ? POLL_METRICS_PORT + i : 0)) &
  pids+=($!)
done
# dashboard.gunicorn_conf: the access log on stdout with tokens masked, repeated headers noted, the
# workers' metrics kept in PROMETHEUS_MULTIPROC_DIR (set for gunicorn only: each poller serves its own)
PROMETHEUS_MULTIPROC_DIR="$metrics_dir" "$BIN/gunicorn" -c python:dashboard.gunicorn_conf \
  --workers "$WORKERS" --worker-class gthread --threads "$THREADS" --bind "127.0.0.1:$PORT" 'dashboard.wsgi:server' &
pids+=($!)
echo "opscenter on http://127.0.0.1:$PORT/wall: $WORKERS workers, $POLLERS pollers" \
  "(poll metrics from 127.0.0.1:$POLL_METRICS_PORT up)" >&2
wait
