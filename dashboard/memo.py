"""Results computed once per what they depend on, shared by every viewer a web worker serves.

Viewers of a page ask for the same frame versions; a ``Memo`` keyed by those versions
(and whatever else a result depends on) does the work for the first of them only. The
latest ``size`` results are kept.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable


class Memo:
    """A bounded, thread-safe map from keys to computed results, least recently used out first."""

    def __init__(self, size: int = 64):
        self.size, self._lock, self._results = size, threading.Lock(), OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The result for ``key``, computed by ``compute()`` when not kept (two threads may both compute it)."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        result = compute()
        with self._lock:
            self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
