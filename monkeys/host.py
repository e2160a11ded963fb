"""Facts about the machine this process runs on, shared by every stage that sizes a pool."""

from __future__ import annotations

import os


def default_workers() -> int:
    """The CPUs this process may use (its affinity mask, else the machine's count): the one default for
    every worker pool (verify workers, warm sandboxes)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without affinity masks (macOS)
        return max(1, os.cpu_count() or 1)


__all__ = ["default_workers"]
