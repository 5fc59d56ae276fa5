"""The log book: one reader thread per log, any number of long-polling readers.

The lines come from a queue the test feeds, standing in for
``Run.logs(follow=True)``; the book is read on an event loop as the
handlers read it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from dh_jupyter.errors import ClusterUnavailableError
from dh_jupyter.server.logbook import LogBook, LogChunk

T = TypeVar("T")
END = object()

# A guard, not a measurement: a reader that is never woken fails the test
# instead of hanging it.
GUARD_SECONDS = 60.0


class Feed:
    """Lines the test hands to the book's thread, one at a time."""

    def __init__(self) -> None:
        self.items: queue.Queue[object] = queue.Queue()
        self.closed = threading.Event()

    def lines(self) -> Iterator[str]:
        try:
            while True:
                item = self.items.get()
                if item is END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield str(item)
        finally:
            self.closed.set()

    def put(self, *items: object) -> None:
        for item in items:
            self.items.put(item)


def run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    async def guarded() -> T:
        return await asyncio.wait_for(make(), GUARD_SECONDS)

    return asyncio.run(guarded())


async def read_all(book: LogBook, limit: int = 100) -> LogChunk:
    """Read until the book is done, returning everything as one chunk."""
    lines: list[str] = []
    offset = 0
    while True:
        chunk = await book.read(offset, wait=GUARD_SECONDS, limit=limit)
        lines += chunk.lines
        offset = chunk.offset
        if chunk.done:
            return LogChunk(0, offset, lines, 0, True, chunk.error)


def test_a_reader_gets_every_line_then_done() -> None:
    feed = Feed()
    feed.put("one", "two", "three", END)

    async def scenario() -> LogChunk:
        book = LogBook("r", feed.lines)
        book.start()
        return await read_all(book, limit=2)

    chunk = run(scenario)

    assert chunk.lines == ["one", "two", "three"]
    assert chunk.done
    assert chunk.error == ""


def test_a_waiting_reader_wakes_up_when_a_line_arrives() -> None:
    feed = Feed()

    async def scenario() -> LogChunk:
        book = LogBook("r", feed.lines)
        book.start()
        waiting = asyncio.ensure_future(book.read(0, wait=3600, limit=10))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        feed.put("hello")
        return await waiting

    chunk = run(scenario)
    feed.put(END)

    assert chunk.lines == ["hello"]
    assert chunk.offset == 1
    assert not chunk.done


def test_many_readers_share_one_thread_and_see_the_same_lines() -> None:
    feed = Feed()
    opened: list[int] = []

    def lines() -> Iterator[str]:
        opened.append(1)
        return feed.lines()

    async def scenario() -> list[LogChunk]:
        book = LogBook("r", lines)
        book.start()
        readers = [asyncio.ensure_future(read_all(book)) for _ in range(5)]
        feed.put("a", "b", END)
        return list(await asyncio.gather(*readers))

    chunks = run(scenario)

    assert opened == [1]
    assert [chunk.lines for chunk in chunks] == [["a", "b"]] * 5


@pytest.mark.parametrize(
    ("offset", "tail", "lines", "start", "skipped"),
    [
        (0, None, ["l2", "l3", "l4"], 2, 2),
        (3, None, ["l3", "l4"], 3, 0),
        (0, 1, ["l4"], 4, 4),
        (4, 3, ["l4"], 4, 0),
        (5, None, [], 5, 0),
        (9, None, [], 5, 0),
    ],
)
def test_a_reader_behind_the_kept_lines_is_told_how_many_it_missed(
    offset: int, tail: int | None, lines: list[str], start: int, skipped: int
) -> None:
    feed = Feed()
    feed.put(*(f"l{i}" for i in range(5)), END)

    async def scenario() -> LogChunk:
        book = LogBook("r", feed.lines, limit=3)
        book.start()
        while not book.done:
            await book.read(book.end, wait=GUARD_SECONDS, limit=10)
        return await book.read(offset, tail=tail, limit=10)

    chunk = run(scenario)

    assert chunk.lines == lines
    assert chunk.start == start
    assert chunk.skipped == skipped
    assert chunk.done


@pytest.mark.parametrize("end", [True, False], ids=["finished", "still running"])
def test_a_tail_read_of_a_fresh_book_waits_for_the_backlog(end: bool) -> None:
    # The thread has read nothing yet when the first reader comes with no
    # wait; it must get the last lines, not the first few read so far.
    feed = Feed()
    feed.put(*(f"l{i}" for i in range(3000)), *([END] if end else []))

    def lines() -> Iterator[str]:
        # Opening a pod's log stream takes a moment too.
        time.sleep(0.05)
        yield from feed.lines()

    async def scenario() -> LogChunk:
        book = LogBook("r", lines)
        book.start()
        return await book.read(0, wait=0, tail=3, limit=10)

    chunk = run(scenario)
    feed.put(END)

    assert chunk.lines == ["l2997", "l2998", "l2999"]
    assert (chunk.start, chunk.skipped, chunk.offset) == (2997, 2997, 3000)


def test_done_comes_only_with_the_last_line() -> None:
    feed = Feed()
    feed.put("a", "b", "c", END)

    async def scenario() -> tuple[LogChunk, LogChunk]:
        book = LogBook("r", feed.lines)
        book.start()
        while not book.done:
            await book.read(book.end, wait=GUARD_SECONDS, limit=10)
        return await book.read(0, limit=2), await book.read(2, limit=2)

    first, last = run(scenario)

    assert (first.lines, first.done) == (["a", "b"], False)
    assert (last.lines, last.done) == (["c"], True)


@pytest.mark.parametrize(
    ("failure", "sentence"),
    [
        (
            ClusterUnavailableError("The API server at 10.0.0.1 did not answer."),
            "The API server at 10.0.0.1 did not answer.",
        ),
        (
            RuntimeError("token=abc123 leaked in a traceback"),
            "Reading this log failed; the Jupyter server's log says why.",
        ),
    ],
)
def test_a_log_that_breaks_ends_with_one_sentence(
    failure: Exception, sentence: str
) -> None:
    feed = Feed()
    feed.put("before", failure)

    async def scenario() -> LogChunk:
        book = LogBook("r", feed.lines)
        book.start()
        return await read_all(book)

    chunk = run(scenario)

    assert chunk.lines == ["before"]
    assert chunk.done
    assert chunk.error == sentence


def test_an_abandoned_book_stops_reading_at_the_next_line() -> None:
    feed = Feed()

    async def scenario() -> LogBook:
        book = LogBook("r", feed.lines)
        book.start()
        feed.put("one")
        await book.read(0, wait=GUARD_SECONDS, limit=10)
        book.abandon()
        feed.put("two")
        while not book.done:
            await book.read(book.end, wait=GUARD_SECONDS, limit=10)
        return book

    book = run(scenario)

    assert book.done
    assert feed.closed.wait(GUARD_SECONDS)
    assert feed.items.empty()


def test_the_chunk_s_json_is_what_the_logs_endpoint_answers() -> None:
    chunk = LogChunk(start=2, offset=4, lines=["c", "d"], skipped=2, done=True)

    assert chunk.to_json() == {
        "start": 2,
        "offset": 4,
        "lines": ["c", "d"],
        "skipped": 2,
        "done": True,
        "error": "",
    }
