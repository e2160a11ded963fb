"""Program extraction from completions: fences, prose, unterminated blocks, HumanEval continuations."""

from __future__ import annotations

from monkeys.verifiers.code.extract import extract_python, fenced_blocks, humaneval_program


def test_fenced_python_block_is_taken_from_prose() -> None:
    text = "Here is my solution:\n\n```python\nprint(int(input()) * 2)\n```\n\nIt doubles the input."
    assert extract_python(text) == "print(int(input()) * 2)\n"


def test_block_defining_the_entry_point_wins_over_a_longer_usage_block() -> None:
    text = (
        "```python\ndef f(x):\n    return x + 1\n```\nUsage:\n"
        "```python\nfor i in range(10):\n    print(i, f(i))\n    print('again')\n```"
    )
    assert extract_python(text, "f") == "def f(x):\n    return x + 1\n"


def test_longest_python_block_when_no_entry_point() -> None:
    text = "```\nx = 1\n```\n```py\nimport sys\nprint(sum(map(int, sys.stdin.read().split())))\n```"
    assert extract_python(text).startswith("import sys")


def test_non_python_blocks_are_ignored() -> None:
    text = "```cpp\nint main() { return 0; }\n```\n```text\n3 4\n```"
    assert [tag for tag, _ in fenced_blocks(text)] == ["cpp", "text"]
    assert extract_python(text) is None


def test_unterminated_last_fence_still_yields_its_code() -> None:
    text = "Solution:\n```python\nn = int(input())\nprint(n * n)\n"
    assert extract_python(text) == "n = int(input())\nprint(n * n)\n"


def test_bare_code_is_accepted_but_prose_is_not() -> None:
    assert extract_python("n = int(input())\nprint(n)") == "n = int(input())\nprint(n)\n"
    assert extract_python("I am not sure how to solve this problem.") is None
    assert extract_python("") is None
    assert extract_python("hello") is None


def test_humaneval_continuation_and_fenced_function() -> None:
    prompt = 'def add(a, b):\n    """Add."""\n'
    assert humaneval_program(prompt, "    return a + b\n", "add") == prompt + "    return a + b\n"
    fenced = "```python\ndef add(a, b):\n    return a + b\n```"
    assert humaneval_program(prompt, fenced, "add") == prompt + "\n\ndef add(a, b):\n    return a + b\n"
    assert humaneval_program(prompt, "   \n", "add") is None
    assert humaneval_program(prompt, "```text\nno code\n```", "add") is None
