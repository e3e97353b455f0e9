"""Benchmarks, run with ``make bench`` (never part of the test suite).

They use a history database of their own, migrated once per run, never the user's: set before anything
imports ``dashboard``, as the test suite does.
"""

import atexit
import os
import shutil
import tempfile

os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="opscenter-bench-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], True)


def _migrate() -> None:
    from dashboard.db.history import History, default_url

    history = History(default_url())
    history.migrate()
    history.close()


_migrate()
