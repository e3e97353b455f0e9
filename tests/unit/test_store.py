"""The frame store on the in-process backend: a frame version is decoded once however many threads read it."""

import threading

import pandas as pd

from dashboard.core import store as store_module
from dashboard.core.store import open_store


def test_threads_reading_a_new_version_decode_it_once(monkeypatch):
    store = open_store(None, "store-test", ["demo"])
    store.write(
        "demo",
        {
            "services": pd.DataFrame(
                {"service": ["a"], "display_name": ["A"], "tier": [1], "owner": ["ops"], "runbook_url": [None]}
            )
        },
    )
    decodes, gate = [], threading.Barrier(8)
    real = store_module.decode_frame

    def counted(data):
        decodes.append(1)
        return real(data)

    monkeypatch.setattr(store_module, "decode_frame", counted)
    frames = []

    def read():
        gate.wait(10)
        frames.append(store.frame("services"))

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(10)
    assert len(frames) == 8 and all(f is frames[0] for f in frames) and len(decodes) == 1
