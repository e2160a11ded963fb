"""Where task data comes from when nobody says: shared/data beside the checkout, else the hub, fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.tasks import TASKS, TaskOptions
from monkeys.tasks import base as task_base


def test_without_flag_or_env_the_checkout_data_dir_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONKEYS_DATA_DIR", raising=False)
    found = task_base.resolve_data_dir(None)
    assert found == Path(task_base.__file__).resolve().parents[3] / "shared" / "data"
    problems = TASKS.create("gsm8k").load(TaskOptions(limit=2))
    assert [p.problem_id for p in problems] == ["0", "1"]


def test_unreachable_hub_fails_in_one_line_within_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONKEYS_DATA_DIR", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(task_base, "checkout_data_dir", lambda: None)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there: refused at once
    import datasets

    def no_retries(*args: object, **kwargs: object) -> None:
        raise AssertionError("the hub client (and its minute of retries) must not be reached")

    monkeypatch.setattr(datasets, "load_dataset", no_retries)
    with pytest.raises(MonkeysError) as info:
        TASKS.create("gsm8k").load(TaskOptions(limit=2))
    msg = str(info.value)
    assert "cannot reach the Hugging Face hub at 127.0.0.1:9" in msg and "--data-dir" in msg
    assert "\n" not in msg
