"""The verify stage: the runner, its worker pool, dedup, the verdict cache and canaries."""
