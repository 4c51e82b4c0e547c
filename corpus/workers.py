"""A small process pool for ingest: batches go out over pipes, a dead worker is reported.

``multiprocessing.Pool`` waits forever for the result of a worker that was killed (by the
out-of-memory killer, say, on one enormous file), and runs three threads in the parent that
contend with the main thread for the GIL on every batch. Ingest needs less and more: a few
batches in flight, results in the order asked for, and a worker's death as an error it can
report. Each worker here has one duplex pipe; the parent sends a batch to the worker with the
least work in flight, and reads each worker's answers in the order it sent the batches (a pipe
keeps order), so neither threads nor tags are needed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import attrs


class WorkerDied(Exception):
    """The worker holding a batch ended before answering it; the batch was not processed."""

    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode
        #: How it ended, in words: "killed by signal 9", "exit status 1".
        self.how = (
            f"killed by signal {-exitcode}"
            if exitcode is not None and exitcode < 0
            else f"exit status {exitcode}"
        )
        super().__init__(f"worker process ended unexpectedly ({self.how})")


class WorkerError(Exception):
    """``function`` raised in the worker (or its answer could not be sent); the worker lives on.

    Carries the exception's type and message as text: the exception itself may not pickle.
    """


def _serve(conn: Any, initializer: Callable[..., None], initargs: Sequence[Any], function: Any):
    """A worker's life: set up once, then answer each batch until told to stop."""
    initializer(*initargs)
    while True:
        try:
            batch = conn.recv()
        except EOFError:  # the parent went away
            return
        if batch is None:
            return
        try:
            answer = function(batch)
            conn.send(answer)  # pickles first, so a failure here has sent nothing
        except Exception as exc:
            conn.send(WorkerError(f"{type(exc).__name__}: {exc}"))


@attrs.define
class _Worker:
    process: Any
    conn: Any
    #: Tickets of the batches sent to it and not yet read back, oldest first.
    in_flight: deque[int] = attrs.field(factory=deque)


@attrs.frozen
class Ticket:
    """A submitted batch: its number and the worker it went to."""

    number: int
    worker: int


class WorkerPool:
    """``jobs`` processes running ``function(batch)`` after ``initializer(*initargs)``.

    Results may be asked for in any order; answers that arrive first are kept until asked
    for (at most the batches in flight). A dead worker is replaced at once; each batch it held
    raises :class:`WorkerDied` when its result is asked for. A batch whose function raised
    raises :class:`WorkerError`, and its worker goes on.
    """

    def __init__(
        self,
        context: Any,
        jobs: int,
        function: Callable[[list[Any]], list[Any]],
        initializer: Callable[..., None],
        initargs: Sequence[Any],
    ) -> None:
        self._context = context
        self._function = function
        self._initializer = initializer
        self._initargs = tuple(initargs)
        self._next_number = 0
        self._ready: dict[int, list[Any]] = {}
        #: Batches that will not be answered, with the exception to raise for each.
        self._lost: dict[int, WorkerDied | WorkerError] = {}
        self._workers: list[_Worker] = []
        for _ in range(jobs):
            self._workers.append(self._start())

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(child_end, self._initializer, self._initargs, self._function),
            daemon=True,
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def submit(self, batch: list[Any]) -> Ticket:
        """Send ``batch`` to the worker with the fewest batches in flight."""
        index = min(range(len(self._workers)), key=lambda i: len(self._workers[i].in_flight))
        ticket = Ticket(self._next_number, index)
        self._next_number += 1
        worker = self._workers[index]
        worker.in_flight.append(ticket.number)
        # If it died, the send fails or not; either way the next read from it says so, for
        # every batch it held.
        with contextlib.suppress(OSError):
            worker.conn.send(batch)
        return ticket

    def result(self, ticket: Ticket) -> list[Any]:
        """The results of a batch, waiting for them.

        Raises :class:`WorkerDied` if its worker died, :class:`WorkerError` if it raised.
        """
        while True:
            if ticket.number in self._ready:
                return self._ready.pop(ticket.number)
            if ticket.number in self._lost:
                raise self._lost.pop(ticket.number)
            self._read_one(ticket.worker)

    def _read_one(self, index: int) -> None:
        worker = self._workers[index]
        if not worker.in_flight:
            raise RuntimeError("no such batch in flight")
        try:
            answer = worker.conn.recv()
        except (EOFError, OSError):
            self._bury(index)
            return
        number = worker.in_flight.popleft()
        if isinstance(answer, WorkerError):
            self._lost[number] = answer
        else:
            self._ready[number] = answer

    def _bury(self, index: int) -> None:
        """Record every batch of a dead worker as lost, and start a fresh one in its place."""
        dead = self._workers[index]
        dead.process.join(timeout=5)
        if dead.process.exitcode is None:  # the pipe broke but it lives on: stop it
            dead.process.kill()
            dead.process.join()
        died = WorkerDied(dead.process.exitcode)
        for number in dead.in_flight:
            self._lost[number] = died
        dead.conn.close()
        self._workers[index] = self._start()

    def close(self) -> None:
        """Stop the workers once they have answered everything sent to them."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        self._join()

    def terminate(self) -> None:
        """Stop the workers now; batches still in flight are dropped."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
        self._join()

    def _join(self) -> None:
        for worker in self._workers:
            worker.process.join()
            worker.conn.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.terminate()


def default_context() -> tuple[Any, bool]:
    """fork where the platform has it (instant start, plugins inherited), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork"), True
    return multiprocessing.get_context("spawn"), False
