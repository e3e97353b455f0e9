"""Results computed once per what they depend on, shared by every viewer a web worker serves.

Viewers of a page ask for the same frame versions; a ``Memo`` keeps, for each slot (what a
result is: a panel in a language), the results of the slot's latest versions, and does the
work for the first viewer of a version only. Viewers asking while it is being done wait for
that result instead of doing the same work again (a new version reaches every viewer at
once). Older versions are dropped as newer ones come, so what a worker keeps depends on the
number of slots, not on how long it has run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class _Pending:
    """A result being computed by one thread, awaited by others."""

    def __init__(self):
        self.done, self.result, self.failed = threading.Event(), None, False


class Memo:
    """A thread-safe map from (slot, version) to computed results, keeping each slot's ``keep``
    latest versions (a viewer may still ask for the version before the newest)."""

    def __init__(self, keep: int = 2):
        self.keep, self._lock = keep, threading.Lock()
        self._results: dict[Hashable, OrderedDict[Hashable, Any]] = {}
        self._pending: dict[tuple[Hashable, Hashable], _Pending] = {}

    def get(self, slot: Hashable, version: Hashable, compute: Callable[[], Any]) -> Any:
        """The result for ``slot`` at ``version``, computed by ``compute()`` when not kept, once however
        many ask at a time."""
        with self._lock:
            kept = self._results.get(slot)
            if kept is not None and version in kept:
                kept.move_to_end(version)
                return kept[version]
            pending = self._pending.get((slot, version))
            computing = pending is None
            if computing:
                pending = self._pending[(slot, version)] = _Pending()
        if not computing:
            pending.done.wait()
            return self.get(slot, version, compute) if pending.failed else pending.result
        try:
            pending.result = compute()
        except BaseException:
            pending.failed = True
            raise
        else:
            with self._lock:
                kept = self._results.setdefault(slot, OrderedDict())
                kept[version] = pending.result
                while len(kept) > self.keep:
                    kept.popitem(last=False)
        finally:
            with self._lock:
                del self._pending[(slot, version)]
            pending.done.set()
        return pending.result

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
