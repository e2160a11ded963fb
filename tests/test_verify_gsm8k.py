"""The gsm8k verifier: extraction, normalisation and numeric comparison, on real-looking completions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from monkeys.tasks.base import Problem
from monkeys.verifiers.answer.gsm8k import GSM8KVerifier, canonical_number, extract_number


@pytest.fixture(scope="module")
def data_dir() -> Path:
    return Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data"))


EXTRACTIONS = [
    ("Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day.\n#### 18", "18"),
    ("So the total is 1,000 + 250 = 1,250 dollars.\n#### 1,250", "1250"),
    ("#### $1,234.50.", "1234.5"),
    ("The total is 5.00.\n#### 5.00", "5"),
    ("He is 3 years younger.\n#### -3", "-3"),
    ("#### −12", "-12"),
    ("The answer is 42.", "42"),
    ("So, the answer is: $7.", "7"),
    ("The final answer is 12 apples", "12"),
    ("Therefore the answer is \\boxed{64}.", "64"),
    ("She had 5 apples and ate 2, leaving 3 apples.", "3"),
    ("It takes 4 hours. The answer is 20 miles per hour. Done", "20"),
    ("It costs $0.25 each.\n#### 25 cents", "25"),
    ("The percentage is 40%.\n#### 40%", "40"),
    ("#### 18\n\nQuestion: What is 2+2?\nAnswer: 2+2=4\n#### 4", "18"),
    ("18 eggs.\nQuestion: another one\nAnswer: #### 99", "18"),
    ("####  1,000,000", "1000000"),
    ("The answer is .5 of the cake", "0.5"),
    ("No numbers here at all.", None),
    ("", None),
    ("#### \nthe answer is 9", "9"),
    ("He paid 1,2 or 3", None),  # a hedge between numbers is not an answer
    ("#### 0.0", "0"),
    ("The answer is ١٢ (Arabic-Indic digits are not read)", None),
    ("#### 007", "7"),
    ("Answer IS 4, or so", "4"),
]


@pytest.mark.parametrize(("completion", "expected"), EXTRACTIONS)
def test_extraction_table(completion: str, expected: str | None) -> None:
    assert extract_number(completion) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000", "1000"),
        ("$5", "5"),
        ("18.", "18"),
        ("007", "7"),
        ("-0", "0"),
        ("2.50", "2.5"),
        ("abc", None),
        ("1e400", "1" + "0" * 400),
    ],
)
def test_canonical_number(text: str, expected: str | None) -> None:
    assert canonical_number(text) == expected


def test_canonical_number_refuses_absurdly_long_digit_strings() -> None:
    assert canonical_number("9" * 5000) is None


@pytest.mark.parametrize(
    ("reference", "completion", "verdict"),
    [
        ("18", "#### 18", "pass"),
        ("18", "#### 18.00", "pass"),
        ("1250", "so #### 1,250", "pass"),
        ("18", "#### 19", "fail"),
        ("-3", "The answer is -3", "pass"),
        ("3", "The answer is -3", "fail"),
        ("18", "I don't know", "fail"),
        ("not-a-number", "#### 5", "error"),
    ],
)
def test_check_table(reference: str, completion: str, verdict: str) -> None:
    v = GSM8KVerifier().check(Problem("0", "", reference), completion)
    assert v.verdict == verdict


def test_failing_verdict_says_what_was_expected_and_found() -> None:
    v = GSM8KVerifier().check(Problem("0", "", "18"), "#### 19")
    assert (v.verdict, v.answer, v.detail) == ("fail", "19", "expected 18")


def test_no_answer_fails_with_reason() -> None:
    v = GSM8KVerifier().check(Problem("0", "", "18"), "I give up.")
    assert (v.verdict, v.answer, v.detail) == ("fail", None, "no answer found")


def test_gold_completion_passes_and_same_answer_is_numeric() -> None:
    verifier = GSM8KVerifier()
    p = Problem("0", "", "1250")
    assert verifier.check(p, verifier.gold_completion(p)).verdict == "pass"
    assert verifier.same_answer(p, "1,250", "1250.00")
    assert not verifier.same_answer(p, "1250", "125")


def test_ten_megabyte_completion_is_graded_quickly() -> None:
    text = ("blah 12 " * 1_300_000) + "#### 7"
    assert len(text) > 10_000_000
    assert GSM8KVerifier().check(Problem("0", "", "7"), text).verdict == "pass"


def test_every_gsm8k_reference_passes_its_own_solution(data_dir: Path) -> None:
    rows = [json.loads(line) for line in (data_dir / "gsm8k" / "test.jsonl").read_text().splitlines()]
    verifier = GSM8KVerifier()
    failures = []
    for i, r in enumerate(rows):
        reference = r["answer"].rsplit("####", 1)[-1].strip().replace(",", "")
        if verifier.check(Problem(str(i), "", reference), r["answer"]).verdict != "pass":
            failures.append(i)
    assert len(rows) == 1319
    assert failures == []


def test_known_wrong_reference_item_1038_is_graded_against_the_published_reference(data_dir: Path) -> None:
    """GSM8K test item 1038 (Jim's college loans): its solution computes 300,000 / 50,000 = 6 years but the
    reference line says `#### 4`. We grade against the published reference, as the paper and other
    harnesses do, so the actually-correct 6 fails and 4 passes."""
    rows = (data_dir / "gsm8k" / "test.jsonl").read_text().splitlines()
    row = json.loads(rows[1038])
    assert "Jim decides to go to college" in row["question"]
    assert "300000/50000=6" in row["answer"] and row["answer"].endswith("#### 4")
    p = Problem("1038", row["question"], "4")
    verifier = GSM8KVerifier()
    assert verifier.check(p, "That means it will take 300,000/50,000 = 6 years.\n#### 6").verdict == "fail"
    assert verifier.check(p, "#### 4").verdict == "pass"


# Whole answers and hedges (issue 10, item 7). Cases are our own, by the classes that lm-evaluation-harness's
# GSM8K filters ("strict-match" after `####`, "flexible-extract" of the last number) get wrong or right.
WHOLE_ANSWERS = [
    ("#### 60 - 15 - 20 = 25", "25"),  # the value after the last `=`, not the first number
    ("The answer is 12 * 3 = 36.", "36"),
    ("So the total is 4 + 4 = 8.\n#### 5 - 3 = 2 apples", "2"),
    ("#### 3/4", "0.75"),  # a fraction whole, not its numerator
    ("#### 1/3", "1/3"),
    ("#### 7 1/2", "7.5"),  # a mixed number
    ("The answer is 1.5 million.", "1500000"),  # a scaled number
    ("The answer is \\(\\$45\\).", "45"),  # LaTeX wrappers and an escaped dollar
    ("Thus \\boxed{\\$1,200}", "1200"),
    ("The answer is: 18 dollars", "18"),
    ("#### -3", "-3"),
]
HEDGES = [
    "#### 6 or 7",
    "#### 10-12",
    "#### 10 to 12",
    "The answer is either 8 or 9.",
    "So he can take either 8 or 9.",  # no marker: the last number, but it ends a hedge
    "It is between 3 and 4.",
    "The answer is 3 (or 4) hours.",
]


@pytest.mark.parametrize(("completion", "expected"), WHOLE_ANSWERS)
def test_the_whole_answer_is_read(completion: str, expected: str) -> None:
    assert extract_number(completion) == expected


@pytest.mark.parametrize("completion", HEDGES)
def test_a_hedge_is_no_answer_and_fails(completion: str) -> None:
    assert extract_number(completion) is None
    for reference in ("6", "7", "8", "9", "10", "12", "3", "4"):
        assert GSM8KVerifier().check(Problem("0", "", reference), completion).verdict == "fail"


@pytest.mark.parametrize(
    ("reference", "completion", "verdict"),
    [
        ("25", "#### 60 - 15 - 20 = 25", "pass"),
        ("60", "#### 60 - 15 - 20 = 25", "fail"),
        ("3", "#### 3/4", "fail"),
        ("7", "#### 7 1/2", "fail"),
        ("1", "The answer is 1.5 million.", "fail"),
        ("1500000", "The answer is 1.5 million.", "pass"),
        ("45", "The answer is \\(\\$45\\).", "pass"),
    ],
)
def test_whole_answers_are_graded_by_their_value(reference: str, completion: str, verdict: str) -> None:
    assert GSM8KVerifier().check(Problem("0", "", reference), completion).verdict == verdict


def test_same_answer_compares_fractions_exactly() -> None:
    verifier, p = GSM8KVerifier(), Problem("0", "", "1")
    assert verifier.same_answer(p, "0.75", "3/4")
    assert not verifier.same_answer(p, "1/3", "0.333333")
