"""The run store: a manifest plus append-only Parquet tables that survive a kill at any moment."""

from monkeys.store.run import Run
from monkeys.store.schema import SAMPLES, SCORES, TABLES, VERDICT_VALUES, VERDICTS
from monkeys.store.shards import ShardedTable

__all__ = ["SAMPLES", "SCORES", "TABLES", "VERDICTS", "VERDICT_VALUES", "Run", "ShardedTable"]
