"""The python-tests harness's pieces that need no sandbox: the plain-data codec, the names tests take from a
program, and the pass decision."""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from decimal import Decimal
from fractions import Fraction

import pytest

from monkeys.verifiers.code import _harness as h


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(10**4000),
        1.5,
        float("inf"),
        "x",
        b"\x00\xff",
        3 + 4j,
        [1, [2, (3, 4)]],
        (),
        {"a": 1, (1, 2): [3], 4: {5}},
        {1, 2},
        frozenset({"a"}),
        Fraction(1, 3),
        Decimal("0.1"),
    ],
)
def test_plain_data_crosses_unchanged(value: object) -> None:
    back = h.decode(json.loads(json.dumps(h.encode(value))))
    assert back == value and type(back) is type(value)


def test_containers_of_the_program_cross_as_their_built_in_base() -> None:
    assert type(h.decode(h.encode(Counter("aab")))) is dict
    assert h.decode(h.encode(OrderedDict(a=1))) == {"a": 1}


def test_an_object_of_the_programs_own_class_does_not_cross() -> None:
    class Yes:
        def __eq__(self, other: object) -> bool:
            return True

    with pytest.raises(h.NotPlainData):
        h.encode([Yes()])
    with pytest.raises(h.NotPlainData):
        h.encode(iter([1]))


@pytest.mark.parametrize("junk", [{"t": 1, "x": 2}, {"q": []}, {"F": "1/0"}])
def test_malformed_answers_are_refused(junk: object) -> None:
    with pytest.raises((ValueError, ZeroDivisionError, TypeError)):
        h.decode(junk)


def test_tests_take_only_their_free_non_builtin_names_from_the_program() -> None:
    tests = (
        "import math\nhelper = 3\ndef t():\n    return abs(remove_occ('a') - helper) + math.pi\nassert t()\n"
    )
    assert h.wanted_names(tests) == ["remove_occ"]
    assert h.wanted_names("x", "f") == ["f"]


def test_pass_needs_the_token_a_clean_exit_and_no_exceeded_limit() -> None:
    token = h.PASS_TOKEN.decode()
    assert h.passed(token, 0, False, False)
    assert not h.passed(token + token, 0, False, False)
    assert not h.passed(token, 1, False, False)
    assert not h.passed(token, None, False, False)
    assert not h.passed(token, 0, True, False)
    assert not h.passed(token, 0, False, True)
    assert not h.passed("", 0, False, False)
