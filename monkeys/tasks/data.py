"""Reading a task's rows: from a local directory laid out like `shared/data`, or from the Hugging Face hub."""

from __future__ import annotations

from typing import Any

from monkeys.errors import MonkeysError
from monkeys.jsonl import read_jsonl
from monkeys.tasks.base import ensure_hub_reachable, resolve_data_dir


def load_rows(
    data_dir: str | None,
    local: str | tuple[str, ...],
    hub_id: str,
    split: str,
    hub_config: str | None = None,
) -> list[dict[str, Any]]:
    """The one hub loader. With a data directory: rows of `<data dir>/<local>`; `local` may list several
    candidate files, the first that exists wins, and when none does the hub is tried. Without one: the
    hub's `hub_id` split."""
    root = resolve_data_dir(data_dir)
    if root is not None:
        if isinstance(local, str):
            return read_jsonl(root / local)
        for name in local:
            if (root / name).is_file():
                return read_jsonl(root / name)
    first_local = local if isinstance(local, str) else local[0]
    try:
        import datasets
    except ImportError:
        raise MonkeysError(
            f"no local copy of {hub_id} and the `datasets` package is missing; pass --data-dir or pip install datasets"
        ) from None
    try:
        ensure_hub_reachable(hub_id)
        ds = datasets.load_dataset(hub_id, hub_config, split=split)
    except Exception as exc:  # the hub raises many types: offline, gated, renamed...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        where = f" (or put it at {root}/{first_local})" if root else ""
        raise MonkeysError(
            f"could not load {hub_id} from the Hugging Face hub ({first}); pass --data-dir with a local copy{where}"
        ) from None
    return [dict(r) for r in ds]


__all__ = ["load_rows", "read_jsonl"]
