"""Batched work handed back in input order, with a bounded window in flight.

The local pool (``--jobs N``) and the shard executors (``--executor``) both send batches of
inputs away and must give results back in input order, with memory bounded however large the
corpus. Inputs the driver decided itself (skips, listing problems) wait in the window in their
place. One implementation, so the two cannot drift apart.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .items import FileResult, InputFile, Triple
from .staging import discard_staged


def in_input_order(
    pending: Iterable[InputFile | Triple],
    *,
    batch_size: int,
    submit: Callable[[list[InputFile]], Any],
    collect: Callable[[list[InputFile], Any], Sequence[FileResult]],
    full: Callable[[int, int], bool],
    stopped: Callable[[list[Any]], None],
) -> Iterator[Triple]:
    """Triples in input order from ``pending`` (inputs to batch, or triples to pass on).

    ``submit(batch)`` sends a batch away and returns a handle; ``collect(batch, handle)``
    waits for its results, in the batch's order. ``full(batches_in_flight, window_length)``
    says when to hand results back before taking more input. When the consumer stops early,
    the staged outputs of a batch's unconsumed results are discarded and ``stopped(handles)``
    is given the batches still in flight.
    """
    window: deque[Any] = deque()
    batch: list[InputFile] = []
    flying = 0

    def flush() -> None:
        nonlocal flying
        if batch:
            window.append((list(batch), submit(list(batch))))
            flying += 1
            batch.clear()

    def drain_one() -> Iterator[Triple]:
        nonlocal flying
        entry = window.popleft()
        if len(entry) == 3:
            yield entry
            return
        flying -= 1
        items, handle = entry
        results = collect(items, handle)
        for index, (item, result) in enumerate(zip(items, results, strict=True)):
            try:
                yield item, result, False
            except GeneratorExit:  # stopped inside this batch: drop the rest's stages
                for rest in results[index + 1 :]:
                    discard_staged(rest)
                raise

    try:
        for item in pending:
            if isinstance(item, tuple):
                flush()
                window.append(item)
            else:
                batch.append(item)
                if len(batch) >= batch_size:
                    flush()
            while full(flying, len(window)):
                yield from drain_one()
        flush()
        while window:
            yield from drain_one()
    finally:
        in_flight = [entry[1] for entry in window if len(entry) == 2]
        if in_flight:
            stopped(in_flight)
