import threading

import pytest

from talkinghead.ahead import read_ahead


def test_keeps_order_and_finishes() -> None:
    assert list(read_ahead(iter(range(100)), depth=3)) == list(range(100))


def test_worker_errors_reach_the_consumer_in_place() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("bad frame")

    seen = []
    with pytest.raises(ValueError, match="bad frame"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_stops_the_worker() -> None:
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in read_ahead(endless(), depth=2):
        if item == 5:
            break
    count = len(produced)
    assert not any(t.name == "talkinghead-render" and t.is_alive() for t in threading.enumerate())
    assert len(produced) == count and count <= 5 + 2 + 2
