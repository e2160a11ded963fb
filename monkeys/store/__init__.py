"""The run store: a manifest plus append-only Parquet tables that survive a kill at any moment."""

from monkeys.store.run import Run
from monkeys.store.shards import ShardedTable

__all__ = ["Run", "ShardedTable"]
