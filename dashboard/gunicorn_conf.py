"""gunicorn settings for production web workers: ``gunicorn -c python:dashboard.gunicorn_conf
'dashboard.wsgi:server'`` (``deploy/production.sh``); options on the command line override them.

The access log goes to standard output through ``redact.GunicornLogger``, so display tokens and
other secrets in query strings (also percent-encoded ones) are masked; ``pre_request`` notes
repeated header fields for the access check (``dashboard.security.serving``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, the workers keep their metrics in files there
(``dashboard.core.metrics``): the directory is emptied when gunicorn starts, so counts of an earlier
run do not carry over, and a worker that exits is marked dead. Do not use ``--preload``: the
workers must import the metrics after the directory is set.

The workers' Arrow buffers come from the system's allocator (``raw_env``: ``ARROW_DEFAULT_MEMORY_POOL=system``
in the workers' environment, ``-e`` overrides it) rather than Arrow's bundled mimalloc, which
kept the pages of the buffers a worker decodes and frees resident: about 70 MB more per worker at 1,000
services. With ``deploy/production.sh``'s glibc settings, large freed buffers go back to the system.

Once a worker has loaded the app, ``post_worker_init`` moves everything allocated so far (modules, Dash's
registry, the layouts) into the garbage collector's permanent generation (``gc.freeze``): those objects
live as long as the worker, and a full collection during a request no longer walks them.
"""

import gc
import os
from pathlib import Path

from dashboard.security.serving import mark_repeated as pre_request  # noqa: F401  (a gunicorn hook, by name)

accesslog = "-"
logger_class = "dashboard.security.redact.GunicornLogger"
raw_env = ["ARROW_DEFAULT_MEMORY_POOL=system"]
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server) -> None:
    if METRICS_DIR is None:
        if server.cfg.workers > 1:
            server.log.warning("PROMETHEUS_MULTIPROC_DIR is not set: each scrape of /metrics sees one worker")
        return
    for path in Path(METRICS_DIR).glob("*.db"):
        path.unlink()


def post_worker_init(worker) -> None:
    gc.collect()
    gc.freeze()


def child_exit(server, worker) -> None:
    if METRICS_DIR is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, METRICS_DIR)
