"""The writer lock: one ingest run writes to a store at a time.

SQLite's own locks last one transaction, but a run commits in batches, so a second ingest could
slip in between two batches and interleave its versions. The run therefore holds an OS file lock
on a side file (``STORE-lock``) from its start to its end. The OS drops the lock when the
process dies, even by ``kill -9``, so a crashed run never blocks the next one.

The side file is never deleted: deleting a lock file while another process waits on it would
let two processes hold "the" lock at once.
"""

from __future__ import annotations

import sys
import time
from typing import IO

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fh: IO[bytes]) -> bool:
        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fh: IO[bytes]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fh: IO[bytes]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fh: IO[bytes]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


#: How often a waiting writer tries the lock again, in seconds.
POLL_INTERVAL = 0.05


def lock_path(store_path: str) -> str:
    """Where the writer lock of the store at ``store_path`` lives."""
    return f"{store_path}-lock"


class WriterLock:
    """An exclusive, process-lifetime lock on a store's side file."""

    def __init__(self, store_path: str) -> None:
        self.path = lock_path(store_path)
        self._fh: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds; False when it stayed taken."""
        if self._fh is not None:
            return True
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open for the run's lifetime
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            if _try_lock(fh):
                self._fh = fh
                return True
            if time.monotonic() >= deadline:
                fh.close()
                return False
            time.sleep(POLL_INTERVAL)

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            _unlock(fh)
        finally:
            fh.close()


__all__ = ["POLL_INTERVAL", "WriterLock", "lock_path"]
