"""Verdict sets: the verdicts one verifier (name, version) made under one set of options.

Options that shape verdicts (a time limit, a sandbox, "run every test", a plugin's `-V` options) are part of
a verdict's identity: every verdict row records them as canonical JSON (`verifier_options`), and the run's
manifest names each verifier's current set under `verdict_sets`. Rows written before options were recorded
have a null `verifier_options`; the manifest entry says whether they belong to the current set
(`legacy_rows`), which the verify stage decides once by comparing the verifier's default options.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NO_OPTIONS = "{}"
MANIFEST_KEY = "verdict_sets"


def canonical(options: Mapping[str, Any]) -> str:
    """One string per set of options: sorted keys, no spaces, tuples as lists."""
    return json.dumps(dict(options), sort_keys=True, separators=(",", ":"), default=str)


def stored_sets(table: pa.Table, name: str, version: str) -> dict[str | None, int]:
    """Rows per recorded options string (None: rows from before options were recorded) for one verifier
    version. `table` needs the verifier, verifier_version and verifier_options columns."""
    if table.num_rows == 0:
        return {}
    mask = pc.and_(pc.equal(table["verifier"], name), pc.equal(table["verifier_version"], version))
    opts = table.filter(mask)["verifier_options"]
    counts = pc.value_counts(opts).to_pylist()
    return {c["values"]: c["counts"] for c in counts}


def set_mask(
    table: pa.Table, name: str, version: str, options: str, legacy_rows: bool
) -> pa.ChunkedArray | pa.Array:
    """Rows of verdict set (name, version, options); null-options rows too when `legacy_rows`."""
    same = pc.and_(pc.equal(table["verifier"], name), pc.equal(table["verifier_version"], version))
    opts = table["verifier_options"]
    in_set = pc.equal(opts, options)
    if legacy_rows:
        in_set = pc.or_kleene(in_set, pc.is_null(opts))
    return pc.and_(same, pc.fill_null(in_set, False))


def current_rows(df: pd.DataFrame, manifest: Mapping[str, Any]) -> np.ndarray:
    """A boolean mask over verdict rows: each verifier's current set. That is the set the manifest names,
    else (runs verified before sets were recorded, imports) the set written last, as before."""
    chosen: Mapping[str, Any] = manifest.get(MANIFEST_KEY, {})
    opts = df["verifier_options"]
    key = df["verifier_version"].astype(str) + "\0" + opts.fillna("\x01").astype(str)
    keep = np.zeros(len(df), dtype=bool)
    for name, rows in df.groupby("verifier", sort=False).indices.items():
        entry = chosen.get(name)
        if entry is None:
            last = key.iloc[rows[-1]]
            keep[rows] = key.iloc[rows].to_numpy() == last
            continue
        o = opts.iloc[rows]
        in_set = (df["verifier_version"].iloc[rows].astype(str) == str(entry["version"])) & (
            (o == canonical(entry.get("options", {}))) | (o.isna() & bool(entry.get("legacy_rows")))
        )
        keep[rows] = in_set.to_numpy()
    return keep


__all__ = ["MANIFEST_KEY", "NO_OPTIONS", "canonical", "current_rows", "set_mask", "stored_sets"]
