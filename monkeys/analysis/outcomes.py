"""Per-problem outcome counts (samples drawn, samples correct) from an outcomes table or a run's verdicts.

Everything downstream (coverage, fits, extrapolation) needs only these counts, so a CSV of counts made
elsewhere and a run directory verified here are analysed the same way.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from monkeys.errors import MonkeysError

if TYPE_CHECKING:  # pandas costs a fifth of a second to import; a clean outcomes table never needs it
    import pandas as pd

REQUIRED = ("problem", "num_samples", "num_correct")


@dataclass(frozen=True)
class Counts:
    """Outcome counts of one config (a model on a task): problem i drew n[i] samples, c[i] of them correct."""

    name: str
    problems: np.ndarray  # problem ids as str
    n: np.ndarray  # int64, >= 1
    c: np.ndarray  # int64, 0 <= c <= n
    subjects: np.ndarray | None = None  # str per problem, when the task has subjects
    notes: tuple[str, ...] = field(default=())

    @property
    def num_problems(self) -> int:
        return len(self.n)

    @property
    def max_k(self) -> int:
        """Largest k every problem has samples for (coverage curves stop here)."""
        return int(self.n.min())


def _as_int_column(df: pd.DataFrame, col: str, source: str, lines: np.ndarray) -> np.ndarray:
    import pandas as pd

    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise MonkeysError(
            f"{source}: line {lines[i]} has {col}={raw.iloc[i]!r}, not a number; fix the table"
        )
    missing = num.isna()
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise MonkeysError(
            f"{source}: line {lines[i]} has no {col} ({int(missing.sum())} rows missing); fill them in"
        )
    values = num.to_numpy(dtype=float)
    frac = values != np.round(values)
    if frac.any():
        i = int(np.flatnonzero(frac)[0])
        raise MonkeysError(
            f"{source}: line {lines[i]} has {col}={values[i]}, not a whole number; counts are integers"
        )
    out = values.astype(np.int64)
    neg = out < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise MonkeysError(f"{source}: line {lines[i]} has {col}={out[i]}, a negative count; counts are >= 0")
    return out


def counts_from_frame(df: pd.DataFrame, name: str, source: str = "outcomes") -> Counts:
    """Validate one config's rows (columns problem, num_samples, num_correct; subject optional).

    Messages name the file line from a `_row` column when present, else the row position + 2 (CSV line)."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise MonkeysError(
            f"{source}: missing column(s) {', '.join(missing)}; an outcomes table needs "
            "problem, num_samples, num_correct (config optional)"
        )
    if df.empty:
        raise MonkeysError(f"{source}: config {name!r} has no rows")
    lines = df["_row"].to_numpy() if "_row" in df.columns else np.arange(len(df)) + 2
    n = _as_int_column(df, "num_samples", source, lines)
    c = _as_int_column(df, "num_correct", source, lines)
    zero = n == 0
    if zero.any():
        i = int(np.flatnonzero(zero)[0])
        raise MonkeysError(
            f"{source}: line {lines[i]} has num_samples=0; every problem needs at least one sample"
        )
    over = c > n
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise MonkeysError(
            f"{source}: line {lines[i]} has num_correct={c[i]} > num_samples={n[i]}; fix the counts"
        )
    if df["problem"].isna().any():
        i = int(np.flatnonzero(df["problem"].isna().to_numpy())[0])
        raise MonkeysError(f"{source}: line {lines[i]} has no problem id; fill it in")
    problems = df["problem"].astype(str).to_numpy()
    subjects = df["subject"].fillna("").astype(str).to_numpy() if "subject" in df.columns else None
    return _counts(name, problems, n, c, subjects, source)


def _counts(
    name: str, problems: np.ndarray, n: np.ndarray, c: np.ndarray, subjects: np.ndarray | None, source: str
) -> Counts:
    """The checks shared by both readers (problem ids unique), then the Counts."""
    seen: set[str] = set()
    for p in problems.tolist():
        if p in seen:
            raise MonkeysError(
                f"{source}: problem {p!r} appears twice in config {name!r}; keep one row per (config, problem)"
            )
        seen.add(p)
    notes = []
    if len(set(n.tolist())) > 1:
        notes.append(f"problems have {n.min()} to {n.max()} samples; curves stop at k={n.min()}")
    return Counts(name, problems, n, c, subjects, tuple(notes))


# pandas' default missing-value strings: a table holding any of them takes the pandas reader
_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
       "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}  # fmt: skip
_COUNT = re.compile(r"[0-9]+\Z")
_INT = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z|[+-]?(?:inf|infinity)\Z", re.I)


def _text_column(values: list[str]) -> list[str] | None:
    """A column of ids as pandas would turn it into text after read_csv(...).astype(str), or None where
    that depends on pandas' type inference beyond the two plain cases: all integers (read as int64, so
    "007" is "7") or at least one value that is no number (read as text, kept as written)."""
    if all(_INT.match(v) for v in values):
        if any(abs(int(v)) >= 2**63 for v in values):
            return None
        return [str(int(v)) for v in values]
    if all(v.lower() in ("true", "false") for v in values):
        return None  # read as booleans
    if any(not _NUMBER.match(v) for v in values):
        return values
    return None  # floats, or integers mixed with floats: pandas' float formatting decides


def _read_plain(p: Path, configs: list[str] | None) -> dict[str, Counts] | None:
    """A clean outcomes table (header with the required columns, every row complete, counts as plain
    digits, no missing values) read without pandas, to the same Counts the pandas reader gives; None for
    anything else, which the pandas reader then handles (and reports)."""
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if len(rows) < 2:
        return None
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header) or any(not h or h != h.strip() for h in header):
        return None
    if any(col not in header for col in REQUIRED) or any(len(r) != len(header) for r in body):
        return None
    cols = {h: [r[i] for r in body] for i, h in enumerate(header)}
    wanted = [*REQUIRED, *(c for c in ("config", "subject") if c in cols)]
    if any(v in _NA or v != v.strip() for col in wanted for v in cols[col]):
        return None
    if not all(_COUNT.match(v) for col in ("num_samples", "num_correct") for v in cols[col]):
        return None
    config = _text_column(cols["config"]) if "config" in cols else [p.stem] * len(body)
    problem = _text_column(cols["problem"])
    subject = _text_column(cols["subject"]) if "subject" in cols else None
    if config is None or problem is None or ("subject" in cols and subject is None):
        return None
    n_all = np.array([int(v) for v in cols["num_samples"]], dtype=np.int64)
    c_all = np.array([int(v) for v in cols["num_correct"]], dtype=np.int64)
    if np.any(n_all == 0) or np.any(c_all > n_all):
        return None  # the pandas reader names the line
    names = list(dict.fromkeys(config))
    if configs:
        unknown = [c for c in configs if c not in names]
        if unknown:
            raise MonkeysError(f"{p} has no config {unknown[0]!r}; choose from: {', '.join(names)}")
        names = [c for c in names if c in configs]
    config_arr = np.array(config, dtype=object)
    problem_arr = np.array(problem, dtype=object)
    subject_arr = np.array(subject, dtype=object) if subject is not None else None
    out = {}
    for name in names:
        rows_of = config_arr == name
        out[name] = _counts(
            name,
            problem_arr[rows_of],
            n_all[rows_of],
            c_all[rows_of],
            subject_arr[rows_of] if subject_arr is not None else None,
            str(p),
        )
    return out


def read_outcomes(path: str | Path, configs: list[str] | None = None) -> dict[str, Counts]:
    """Read an outcomes CSV into one Counts per config (the file's stem when there is no config column)."""
    p = Path(path)
    if not p.is_file():
        raise MonkeysError(f"outcomes file {p} does not exist; check --outcomes")
    plain = _read_plain(p, configs)
    if plain is not None:
        return plain
    import pandas as pd

    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MonkeysError(
            f"cannot read {p} as CSV ({str(exc).splitlines()[0]}); pass a CSV outcomes table"
        ) from None
    if "config" not in df.columns:
        df = df.assign(config=p.stem)
    df = df.assign(_row=np.arange(len(df)) + 2)  # line number in the file (header is line 1)
    if df["config"].isna().any():
        raise MonkeysError(
            f"{p}: line {int(df.loc[df['config'].isna(), '_row'].iloc[0])} has no config; fill it in"
        )
    names = list(dict.fromkeys(df["config"].astype(str)))
    if configs:
        unknown = [c for c in configs if c not in names]
        if unknown:
            raise MonkeysError(f"{p} has no config {unknown[0]!r}; choose from: {', '.join(names)}")
        names = [c for c in names if c in configs]
    out = {}
    for name in names:
        rows = df[df["config"].astype(str) == name]
        out[name] = counts_from_frame(rows.reset_index(drop=True), name, source=str(p))
    return out


def default_verifier(run: Any, verifier: str | None) -> str:
    if verifier:
        return verifier
    try:
        return str(run.manifest["task"]["default_verifier"])
    except (KeyError, TypeError):
        raise MonkeysError(
            f"run {run.path} names no default verifier in its manifest; pass --verifier"
        ) from None


def run_verdicts(run: Any, verifier: str | None) -> tuple[str, pd.DataFrame]:
    """The verdicts of `verifier` (default: the task's) with a clear error when there are none."""
    name = default_verifier(run, verifier)
    df = run.verdicts(name)
    if df.empty:
        have = sorted(set(run.verdicts()["verifier"])) if not run.verdicts().empty else []
        hint = f"it has verdicts of: {', '.join(have)}" if have else "run `monkeys verify` first"
        raise MonkeysError(f"run {run.path} has no verdicts of verifier {name!r}; {hint}")
    return name, df


def run_counts(run: Any, verifier: str | None = None) -> Counts:
    """Counts from a run's verdicts: num_samples = verdict rows per problem, num_correct = pass rows."""
    name, df = run_verdicts(run, verifier)
    grouped = df.assign(ok=(df["verdict"] == "pass").astype(np.int64)).groupby("problem_id", sort=False)["ok"]
    agg = grouped.agg(["size", "sum"])
    problems_df = run.problems()
    order = [p for p in problems_df["problem_id"].astype(str) if p in agg.index]
    extra = [p for p in agg.index if p not in set(order)]
    agg = agg.loc[order + extra]
    notes = [f"verifier {name}"]
    without = len(problems_df) - len(order)
    if without:
        notes.append(f"{without} of {len(problems_df)} problems have no verdicts yet and are left out")
    subjects = None
    if "subject" in problems_df.columns:
        by_id = dict(
            zip(
                problems_df["problem_id"].astype(str),
                problems_df["subject"].fillna("").astype(str),
                strict=True,
            )
        )
        subjects = np.array([by_id.get(p, "") for p in agg.index], dtype=object)
    import pandas as pd

    frame = pd.DataFrame(
        {
            "problem": agg.index.astype(str),
            "num_samples": agg["size"].to_numpy(),
            "num_correct": agg["sum"].to_numpy(),
        }
    )
    if subjects is not None:
        frame["subject"] = subjects
    counts = counts_from_frame(frame, run_name(run), source=str(run.path))
    return Counts(counts.name, counts.problems, counts.n, counts.c, counts.subjects, (*notes, *counts.notes))


def run_name(run: Any) -> str:
    return Path(run.path).resolve().name


def hypergeometric_subsample(counts: Counts, n_sub: int, rng: np.random.Generator) -> Counts:
    """Counts as if each problem had drawn only `n_sub` of its samples (without replacement)."""
    if n_sub < 1 or n_sub > counts.max_k:
        raise MonkeysError(
            f"cannot subsample {n_sub} samples per problem from {counts.name} (has {counts.max_k})"
        )
    c_sub = rng.hypergeometric(counts.c, counts.n - counts.c, n_sub)
    n_sub_arr = np.full_like(counts.n, n_sub)
    return Counts(
        f"{counts.name}@{n_sub}", counts.problems, n_sub_arr, c_sub.astype(np.int64), counts.subjects
    )
