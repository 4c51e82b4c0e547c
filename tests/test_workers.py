"""The ingest process pool: order, buffering, and a worker that dies."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time

import pytest

from corpus.workers import WorkerDied, WorkerError, WorkerPool, default_context

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kills with POSIX signals")


@pytest.fixture(autouse=True)
def no_hang():
    """A pool that waits forever is the bug these tests look for: fail instead of hanging."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _nothing() -> None:
    pass


def square_or_die(batch: list[int]) -> list[int]:
    if -1 in batch:
        os.kill(os.getpid(), signal.SIGKILL)
    if -2 in batch:
        os._exit(3)
    if -3 in batch:
        raise ValueError("no negative squares")
    if -4 in batch:
        return [lambda: None]  # cannot be pickled back
    if batch and isinstance(batch[0], bytes):
        return [b[::-1] * 2 for b in batch]
    return [n * n for n in batch]


def pool(jobs: int = 2) -> WorkerPool:
    context, _ = default_context()
    return WorkerPool(context, jobs, square_or_die, _nothing, ())


def test_results_come_back_whatever_order_they_are_asked_in():
    with pool() as p:
        tickets = [p.submit([n, n + 1]) for n in range(0, 20, 2)]
        assert {t.worker for t in tickets} == {0, 1}  # spread over both workers
        assert p.result(tickets[-1]) == [18**2, 19**2]  # the others wait, buffered
        assert [p.result(t) for t in tickets[:-1]] == [
            [n * n, (n + 1) ** 2] for n in range(0, 18, 2)
        ]
        p.close()


def test_a_killed_worker_fails_its_batches_and_is_replaced():
    with pool(jobs=1) as p:
        before = p.submit([2])
        doomed = p.submit([-1])
        also_held = p.submit([3])  # queued behind the killing batch in the same worker
        assert p.result(before) == [4]
        with pytest.raises(WorkerDied) as died:
            p.result(doomed)
        assert died.value.how == "killed by signal 9"
        with pytest.raises(WorkerDied):
            p.result(also_held)
        assert p.result(p.submit([5])) == [25]  # a fresh worker took its place
        p.close()


def test_a_worker_that_exits_is_reported_with_its_status():
    with pool(jobs=2) as p:
        with pytest.raises(WorkerDied) as died:
            p.result(p.submit([-2]))
        assert died.value.how == "exit status 3"
        assert [p.result(p.submit([n])) for n in range(4)] == [[0], [1], [4], [9]]
        p.close()


@pytest.mark.parametrize("poison", [-3, -4])
def test_an_exception_in_a_batch_is_raised_in_the_parent_and_the_worker_lives_on(poison):
    with pool(jobs=1) as p:
        first = p.submit([poison])
        second = p.submit([6])
        with pytest.raises(WorkerError) as error:
            p.result(first)
        assert ("ValueError: no negative squares" if poison == -3 else "pickle") in str(error.value)
        assert p.result(second) == [36]
        p.close()


def test_batches_and_answers_larger_than_a_pipe_buffer_do_not_deadlock():
    # Several big batches queued for one worker whose big answers nobody has read yet: a
    # parent that sent on its main thread would block, the worker blocked on its answer.
    payloads = [bytes([i]) * 300_000 for i in range(6)]
    with pool(jobs=1) as p:
        tickets = [p.submit([payload]) for payload in payloads]
        assert [p.result(t) for t in tickets] == [[b * 2] for b in payloads]
        p.close()


def _timed(batch: list[str]) -> list[object]:
    """``slow``: sleep a second; ``big``: an answer larger than a pipe's buffer; ``when``:
    the moment the batch started (the monotonic clock is the machine's, not the process's)."""
    (what,) = batch
    if what == "slow":
        time.sleep(1.0)
        return ["slept"]
    if what == "big":
        return [b"x" * 4_000_000]
    return [time.monotonic()]


def test_a_worker_goes_on_while_the_parent_waits_for_another_workers_batch():
    # Worker 0's big answer is read while the parent waits for worker 1's slow batch, so
    # worker 0 starts its next batch at once instead of sitting blocked in its send until
    # the parent gets round to asking for that answer.
    context, _ = default_context()
    with WorkerPool(context, 2, _timed, _nothing, ()) as p:
        big, slow, when = p.submit(["big"]), p.submit(["slow"]), p.submit(["when"])
        assert (big.worker, slow.worker, when.worker) == (0, 1, 0)
        assert p.result(slow) == ["slept"]
        waited_until = time.monotonic()
        assert p.result(big) == [b"x" * 4_000_000]
        (started,) = p.result(when)
        assert started < waited_until - 0.5
        p.close()


def _niceness(batch: list[int]) -> list[int]:
    return [os.nice(0) for _ in batch]


def test_ingest_workers_yield_the_cpu_to_the_driver():
    """An ingest's pool workers run at a lower priority than the process that commits."""
    from corpus.config import Config
    from corpus.execute import WORKER_NICENESS, worker_init
    from corpus.ingest import IngestOptions
    from corpus.plugins import Plugins

    context, _ = default_context()
    initargs = (Plugins(), Config(), IngestOptions(sources=(".",)), None)
    with WorkerPool(context, 1, _niceness, worker_init, initargs) as p:
        (niceness,) = p.result(p.submit([0]))
        p.close()
    assert niceness == min(os.nice(0) + WORKER_NICENESS, 19)
