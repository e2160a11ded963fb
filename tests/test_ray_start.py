"""Starting Ray replicas (`ray_engine.start_all`): a replica that fails to start is started once more,
alone, after the others are up; a second failure closes every replica and says why in one line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from monkeys.errors import MonkeysError
from monkeys.records import Completion, Request, SamplingParams
from monkeys.sampler.base import Engine
from monkeys.sampler.ray_engine import start_all


class Starting(Engine):
    """A replica whose engine load (`describe`) fails on the attempts listed in `fails`."""

    name = "starting"

    def __init__(self, slot: int, again: bool, fails: set[tuple[int, bool]], log: list[str]) -> None:
        self.slot, self.again, self.fails, self.log = slot, again, fails, log
        self.closed = False

    def describe(self) -> dict[str, Any]:
        self.log.append(f"ready? {self.slot}{'+' if self.again else ''}")
        if (self.slot, self.again) in self.fails:
            raise RuntimeError(f"torn compile cache in slot {self.slot}")
        return {"name": self.name}

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        yield from ()

    def close(self) -> None:
        self.closed = True


def starter(fails: set[tuple[int, bool]], log: list[str], made: list[Starting]):  # noqa: ANN201
    def start(i: int, again: bool) -> Starting:
        log.append(f"start {i}{'+' if again else ''}")
        made.append(Starting(i, again, fails, log))
        return made[-1]

    return start


def test_a_replica_that_fails_to_start_is_started_again_after_the_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log: list[str] = []
    made: list[Starting] = []
    got = start_all(starter({(1, False)}, log, made), 3)
    assert log == [
        "start 0",
        "start 1",
        "start 2",
        "ready? 0",
        "ready? 1",
        "ready? 2",
        "start 1+",
        "ready? 1+",
    ]
    assert [(r.slot, r.again) for r in got] == [(0, False), (1, True), (2, False)]
    assert made[1].closed and not any(r.closed for r in got)
    assert "replica 1 failed to start (RuntimeError: torn compile cache in slot 1); starting it again" in (
        capsys.readouterr().err
    )


def test_a_second_failure_closes_every_replica_and_says_why() -> None:
    log: list[str] = []
    made: list[Starting] = []
    with pytest.raises(
        MonkeysError, match=r"failed to start twice \(RuntimeError: torn compile cache in slot 0\)"
    ):
        start_all(starter({(0, False), (0, True)}, log, made), 2)
    assert all(r.closed for r in made) and len(made) == 3
