"""Results computed once per what they depend on, shared by every viewer a web worker serves.

Viewers of a page ask for the same frame versions; a ``Memo`` keyed by those versions
(and whatever else a result depends on) does the work for the first of them only. Viewers
asking while it is being done wait for that result instead of doing the same work again
(a new version reaches every viewer at once). The latest ``size`` results are kept.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable


class _Pending:
    """A result being computed by one thread, awaited by others."""

    def __init__(self):
        self.done, self.result, self.failed = threading.Event(), None, False


class Memo:
    """A bounded, thread-safe map from keys to computed results, least recently used out first."""

    def __init__(self, size: int = 64):
        self.size, self._lock, self._results = size, threading.Lock(), OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The result for ``key``, computed by ``compute()`` when not kept, once however many ask at a time."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
            pending = self._pending.get(key)
            computing = pending is None
            if computing:
                pending = self._pending[key] = _Pending()
        if not computing:
            pending.done.wait()
            return self.get(key, compute) if pending.failed else pending.result
        try:
            pending.result = compute()
        except BaseException:
            pending.failed = True
            raise
        else:
            with self._lock:
                self._results[key] = pending.result
                while len(self._results) > self.size:
                    self._results.popitem(last=False)
        finally:
            with self._lock:
                del self._pending[key]
            pending.done.set()
        return pending.result

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
