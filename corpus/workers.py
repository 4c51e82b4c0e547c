"""A small process pool for ingest: batches go out over pipes, a dead worker is reported.

``multiprocessing.Pool`` waits forever for the result of a worker that was killed (by the
out-of-memory killer, say, on one enormous file). Ingest needs a few batches in flight,
results in the order asked for, and a worker's death as an error it can report. Each worker
here has one duplex pipe, and the parent reads each worker's answers in the order it sent the
batches (a pipe keeps order), so answers need no tags.

Sending happens on one background thread, and each worker's answers are read by a thread of
its own. A batch and an answer are each often larger than a pipe's buffer. If the main thread
sent, it could block writing a batch to a worker that is itself blocked writing an answer
nobody reads. And if answers were read only when asked for, a worker would sit blocked
sending its answer while the main thread waits for another worker's or commits results: on
2 cores a quarter of each worker's time went that way. The readers take each answer off the
pipe as it comes (as bytes; the main thread unpickles it when it is wanted), so a worker goes
straight on to its next batch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.reduction import ForkingPickler
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


#: ``prctl`` option: the signal the kernel sends this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1
#: Whether workers ask the kernel for that signal (tests turn it off to try the lifeline alone).
USE_PDEATHSIG = sys.platform.startswith("linux")


def _die_with_parent(parent_pid: int, lifeline: Any, lifeline_writer: Any) -> None:
    """End this worker when the parent process ends, however it ends (even ``kill -9``).

    A worker that outlived its parent would hold the store's writer lock (inherited with the
    parent's open files), so the next ingest would fail with ``STORE_BUSY``. On Linux the
    kernel kills the worker (``PR_SET_PDEATHSIG``). Everywhere, a thread waits on the
    lifeline pipe, whose only writer is the parent: when the parent ends, the wait ends.
    """
    lifeline_writer.close()  # a forked worker inherits the parent's end: drop it
    if USE_PDEATHSIG:
        with contextlib.suppress(Exception):
            import ctypes  # here: only workers on Linux need it

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            lifeline.recv()  # the parent never sends: this returns only when it is gone
        os._exit(1)

    threading.Thread(target=watch, name="corpus-lifeline", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the watch began
        os._exit(1)


def _serve(
    conn: Any,
    initializer: Callable[..., None],
    initargs: Sequence[Any],
    function: Any,
    lifeline: tuple[int, Any, Any] | None = None,
):
    """A worker's life: set up once, then answer each batch until told to stop."""
    if lifeline is not None:
        _die_with_parent(*lifeline)
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


#: Seconds a stopped worker's reader thread gets to see its pipe end.
READER_GRACE = 5.0

#: What the sender thread is told: send a batch (or a worker's stop sentinel), close a
#: connection once everything queued before has gone, or stop.
_SEND, _CLOSE, _STOP = "send", "close", "stop"


def _send_all(outbox: queue.SimpleQueue) -> None:
    """The sender thread: sends in the order things were queued, until told to stop."""
    while True:
        what, conn, payload = outbox.get()
        if what == _STOP:
            return
        if what == _CLOSE:
            conn.close()
            continue
        # A dead worker's pipe fails the send; the main thread learns of the death on read.
        with contextlib.suppress(OSError):
            conn.send(payload)


#: ``mallopt`` parameter: allocations from this size up get pages of their own (glibc).
_M_MMAP_THRESHOLD = -3
#: glibc's default threshold, fixed: set, it no longer rises after each large free.
MMAP_THRESHOLD = 128 * 1024


def _fix_mmap_threshold() -> None:
    """Keep glibc from recycling large answer buffers inside its heaps.

    Each answer (about half a MiB) is allocated by a reader thread and freed by the main
    thread. With glibc's sliding threshold, after the first such buffer is freed the next
    ones come from the threads' heaps, which fragment and are seldom given back: the parent
    grew by about 1 MiB every 10 s, 88 to 166 MiB over 1,000,000 articles. With the threshold
    fixed each buffer has pages of its own, returned when freed, and the parent stays flat.
    Elsewhere (no glibc) this does nothing.
    """
    with contextlib.suppress(Exception):
        import ctypes  # here: only the parent of a pool needs it

        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _read_all(worker: _Worker, inbox: queue.SimpleQueue) -> None:
    """A worker's reader thread: each answer's bytes into ``inbox`` as soon as they arrive,
    then ``None`` once the pipe ends (the worker stopped or died)."""
    while True:
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            inbox.put((worker, None))
            return
        inbox.put((worker, data))


@attrs.define(eq=False)
class _Worker:
    process: Any
    conn: Any
    #: Tickets of the batches sent to it and not yet read back, oldest first.
    in_flight: deque[int] = attrs.field(factory=deque)
    reader: threading.Thread | None = None


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
        # Every worker waits on the reading end; only this process keeps the writing end, so
        # its end (however it comes) is the workers' end too (see _die_with_parent).
        self._lifeline = context.Pipe(duplex=False)
        #: ``(worker, answer bytes)`` from the reader threads; ``None`` bytes: its pipe ended.
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        _fix_mmap_threshold()
        # Workers first: forking while another thread runs is what fork handles worst.
        self._workers: list[_Worker] = [self._start() for _ in range(jobs)]
        for worker in self._workers:
            self._start_reader(worker)
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(
            target=_send_all, args=(self._outbox,), name="corpus-sender", daemon=True
        )
        self._sender.start()

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(
                child_end,
                self._initializer,
                self._initargs,
                self._function,
                (os.getpid(), *self._lifeline),
            ),
            daemon=True,
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def _start_reader(self, worker: _Worker) -> None:
        worker.reader = threading.Thread(
            target=_read_all, args=(worker, self._inbox), name="corpus-reader", daemon=True
        )
        worker.reader.start()

    def submit(self, batch: list[Any]) -> Ticket:
        """Queue ``batch`` for the worker with the fewest batches in flight; never blocks."""
        index = min(range(len(self._workers)), key=lambda i: len(self._workers[i].in_flight))
        ticket = Ticket(self._next_number, index)
        self._next_number += 1
        worker = self._workers[index]
        worker.in_flight.append(ticket.number)
        self._outbox.put((_SEND, worker.conn, batch))
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
            if ticket.number not in self._workers[ticket.worker].in_flight:
                raise RuntimeError("no such batch in flight")
            self._take(*self._inbox.get())

    def _take(self, worker: _Worker, data: bytes | None) -> None:
        """File one answer from a reader thread under its batch (a worker's answers come in
        the order its batches were sent); ``None``: the worker is gone."""
        if worker not in self._workers:  # buried already
            return
        if data is None:
            self._bury(self._workers.index(worker))
            return
        number = worker.in_flight.popleft()
        answer = ForkingPickler.loads(data)
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
        # Closed by the sender, after whatever it still has queued for it: closing it here
        # could free the descriptor for reuse while the sender writes to it.
        self._outbox.put((_CLOSE, dead.conn, None))
        self._workers[index] = self._start()
        self._start_reader(self._workers[index])

    def close(self) -> None:
        """Stop the workers once they have answered everything sent to them."""
        for worker in self._workers:
            self._outbox.put((_SEND, worker.conn, None))
        self._stop_sender()
        self._join_workers()

    def terminate(self) -> None:
        """Stop the workers now; batches still in flight are dropped."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
        self._stop_sender()  # its sends to the stopped workers fail and are dropped
        self._join_workers()

    def _join_workers(self) -> None:
        for worker in self._workers:
            worker.process.join()
            # Its pipe ended with it, so its reader ends too; a reader still reading (the
            # pipe held open elsewhere) keeps the connection: closing a descriptor under a
            # blocked read could hand the number to another file.
            if worker.reader is not None:
                worker.reader.join(timeout=READER_GRACE)
                if worker.reader.is_alive():
                    continue
            worker.conn.close()
        self._close_lifeline()

    def _close_lifeline(self) -> None:
        for end in self._lifeline:
            end.close()

    def _stop_sender(self) -> None:
        if self._sender.is_alive():
            self._outbox.put((_STOP, None, None))
            self._sender.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.terminate()


def default_context() -> tuple[Any, bool]:
    """fork where the platform has it (instant start, plugins inherited), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork"), True
    return multiprocessing.get_context("spawn"), False
