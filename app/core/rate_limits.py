"""The per-worker rate-limit store: fixed-window counters in memory, without a timer thread.

The ``limits`` library's own ``memory://`` store starts a ``threading.Timer`` after almost
every counted hit to purge expired keys, so under load each rate-limited POST paid for a new
thread. This store counts the same way (a fixed window per key: the first hit opens it, it
closes ``expiry`` seconds later and the count starts again) and purges expired keys itself,
at most once a minute, on the next hit. Like ``memory://`` it counts per worker process;
several workers or servers share their counts through Redis (``RATELIMIT_STORAGE_URI``), and
``gunicorn.conf.py`` refuses to start several workers on this store unless
``RATELIMIT_ALLOW_PER_WORKER`` says per-worker counting is accepted.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

#: Seconds between two purges of expired keys (memory only: expired keys never count).
SWEEP_SECONDS = 60


class LocalMemoryStorage(Storage):
    """``local-memory://``: fixed-window counters of this process (see the module)."""

    STORAGE_SCHEME = ["local-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._windows: dict[str, list[float]] = {}  # key -> [count, closes at]
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        self.clock = time.time  # seconds; tests move it instead of sleeping
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:  # pragma: no cover - nothing to wrap
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits in the key's open window (opening one if none is)."""
        now = self.clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get(key)
            if window is None or window[1] <= now:
                window = self._windows[key] = [0, now + expiry]
            window[0] += amount
            return int(window[0])

    def get(self, key: str) -> int:
        """The hits counted in the key's open window (0 when none is open)."""
        window = self._windows.get(key)
        return int(window[0]) if window is not None and window[1] > self.clock() else 0

    def get_expiry(self, key: str) -> float:
        """When the key's window closes (now when none is open)."""
        now = self.clock()
        window = self._windows.get(key)
        return window[1] if window is not None and window[1] > now else now

    def check(self) -> bool:
        """Always reachable: it is this process's memory."""
        return True

    def reset(self) -> int:
        """Forget every count."""
        with self._lock:
            count = len(self._windows)
            self._windows.clear()
        return count

    def clear(self, key: str) -> None:
        """Forget one key's count."""
        with self._lock:
            self._windows.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [key for key, window in self._windows.items() if window[1] <= now]:
            del self._windows[key]
        self._next_sweep = now + SWEEP_SECONDS
