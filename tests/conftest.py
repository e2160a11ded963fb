"""Shared test fixtures: where the task data lives (never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> str:
    path = os.environ.get("MONKEYS_DATA_DIR") or str(DEFAULT_DATA)
    if not Path(path, "gsm8k", "test.jsonl").is_file():
        pytest.fail(f"task data not found at {path}; set MONKEYS_DATA_DIR to the shared data folder")
    return path
