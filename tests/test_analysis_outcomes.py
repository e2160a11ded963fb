"""The outcomes reader: clean tables are read without pandas, to exactly what the pandas reader gives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from monkeys.analysis import outcomes as oc
from monkeys.errors import MonkeysError


def _pandas_read(path: Path, configs=None):
    """The pandas reader alone (the fast path switched off)."""
    real = oc._read_plain
    oc._read_plain = lambda p, c: None
    try:
        return oc.read_outcomes(path, configs)
    finally:
        oc._read_plain = real


def _same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        x, y = a[name], b[name]
        assert x.name == y.name
        assert x.problems.tolist() == y.problems.tolist()
        assert x.n.dtype == y.n.dtype == np.int64 and np.array_equal(x.n, y.n)
        assert np.array_equal(x.c, y.c)
        assert (x.subjects is None) == (y.subjects is None)
        if x.subjects is not None:
            assert x.subjects.tolist() == y.subjects.tolist()
        assert x.notes == y.notes


TABLES = {
    "plain": "config,problem,num_samples,num_correct\nA,0,10,3\nA,1,10,0\nB,0,5,5\n",
    "no config column": "problem,num_samples,num_correct\n7,10,3\n8,10,0\n",
    "integer ids lose their zeros as pandas reads them": "problem,num_samples,num_correct\n007,10,3\n008,10,1\n",
    "text ids": "problem,num_samples,num_correct,subject\nalgebra/1,10,3,Algebra\n2,10,1,Geometry\n",
    "numeric configs": "config,problem,num_samples,num_correct\n1,a,4,1\n2,a,4,2\n",
    "extra columns and quotes": 'config,problem,num_samples,num_correct,note\n"x, y",p,9,2,"a ""b"""\n',
    "uneven samples": "problem,num_samples,num_correct\na,10,3\nb,20,4\n",
    # the fast path steps aside for these; the pandas reader takes them
    "float ids": "problem,num_samples,num_correct\n1.5,10,3\n2,10,1\n",
    "missing value": "problem,num_samples,num_correct\na,10,\nb,10,1\n",
    "boolean ids": "problem,num_samples,num_correct\ntrue,10,3\nfalse,10,1\n",
}


@pytest.mark.parametrize("name", list(TABLES))
def test_the_plain_reader_gives_what_pandas_gives(tmp_path, name):
    path = tmp_path / "t.csv"
    path.write_text(TABLES[name])
    try:
        expected = _pandas_read(path)
    except MonkeysError as exc:
        with pytest.raises(MonkeysError) as got:
            oc.read_outcomes(path)
        assert str(got.value) == str(exc)
        return
    _same(oc.read_outcomes(path), expected)


def test_the_plain_reader_takes_the_clean_tables_and_leaves_the_rest(tmp_path):
    path = tmp_path / "t.csv"
    for name in ("plain", "no config column", "text ids", "extra columns and quotes"):
        path.write_text(TABLES[name])
        assert oc._read_plain(path, None) is not None, name
    for name in ("float ids", "missing value", "boolean ids"):
        path.write_text(TABLES[name])
        assert oc._read_plain(path, None) is None, name


def test_errors_are_the_same_from_either_reader(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("config,problem,num_samples,num_correct\nA,0,10,3\nA,0,10,1\n")
    with pytest.raises(MonkeysError, match="appears twice"):
        oc.read_outcomes(path)
    with pytest.raises(MonkeysError, match="has no config 'C'; choose from: A"):
        oc.read_outcomes(path, ["C"])
    path.write_text("config,problem,num_samples,num_correct\nA,0,10,11\n")
    with pytest.raises(MonkeysError, match="line 2 has num_correct=11 > num_samples=10"):
        oc.read_outcomes(path)


def test_the_released_outcomes_read_the_same_both_ways():
    path = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present; set MONKEYS_DATA_DIR")
    assert oc._read_plain(path, None) is not None
    _same(oc.read_outcomes(path), _pandas_read(path))
    _same(oc.read_outcomes(path, ["MATH_Pythia-70M"]), _pandas_read(path, ["MATH_Pythia-70M"]))
