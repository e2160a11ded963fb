"""miniF2F in Lean 4: prove each formal statement; graded by the `lean` verifier (a real Lean REPL).

Rows come from `<data dir>/minif2f/minif2f.jsonl` (244 test + 244 valid theorems, each with the `header` it
needs). The Large Language Monkeys paper used the 130 `mathd_*` test theorems: `--subset mathd`. The prompt
shows a few solved statements of our own, then the theorem's statement ending in `:= by`; the model
continues with the tactic proof and closes the code block.
"""

from __future__ import annotations

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.tasks.base import TASKS, Task, TaskOptions, resolve_data_dir, select
from monkeys.tasks.data import read_jsonl

SUBSETS = ("mathd", "amc", "aime", "imo", "algebra", "numbertheory", "induction")

# Solved statements in the style of the data (our own; each proof is short and uses Mathlib tactics).
EXEMPLARS = (
    (
        "/-- What is the value of $x$ if $3x + 5 = 20$? Show that it is 5.-/",
        "theorem exemplar_linear (x : ℝ) (h₀ : 3 * x + 5 = 20) : x = 5 := by\n",
        "  linarith\n",
    ),
    (
        "/-- Show that $7^2 - 3^2 = 40$.-/",
        "theorem exemplar_arith : (7 : ℤ) ^ 2 - 3 ^ 2 = 40 := by\n",
        "  norm_num\n",
    ),
    (
        "/-- If $n$ is a natural number with $n \\% 4 = 3$, show that $(2n) \\% 4 = 2$.-/",
        "theorem exemplar_mod (n : ℕ) (h₀ : n % 4 = 3) : 2 * n % 4 = 2 := by\n",
        "  omega\n",
    ),
)

INSTRUCTION = "Complete the following Lean 4 proofs (Lean 4, Mathlib). Write only the tactic proof."


def prompt_for(informal: str, statement: str) -> str:
    parts = [INSTRUCTION, ""]
    for doc, stmt, proof in EXEMPLARS:
        parts.append(f"```lean4\n{doc}\n{stmt}{proof}```\n")
    parts.append(f"```lean4\n{informal.rstrip()}\n{statement}")
    return "\n".join(parts)


class MiniF2F(Task):
    """miniF2F (Zheng et al. 2021) in Lean 4: formal olympiad statements, proofs checked by Lean."""

    name = "minif2f"
    few_shot = False
    default_verifier = "lean"
    # The proof ends where the code block does, or where the model starts another theorem.
    stop = ("```", "\ntheorem ", "\nlemma ", "\n/--")
    split = "test"

    def load(self, options: TaskOptions) -> list[Problem]:
        root = resolve_data_dir(options.data_dir)
        if root is None:
            raise MonkeysError(
                "the minif2f task reads minif2f/minif2f.jsonl from a data directory; pass --data-dir"
            )
        rows = read_jsonl(root / "minif2f" / "minif2f.jsonl")
        subset = options.subset
        if subset is not None and subset not in SUBSETS:
            raise MonkeysError(
                f"unknown --subset {subset!r} for minif2f; choose one of: {', '.join(SUBSETS)}"
            )
        problems = []
        for row in rows:
            if row.get("split") != self.split:
                continue
            name = str(row["name"])
            if subset is not None and not name.startswith(subset):
                continue
            statement = str(row["formal_statement"])
            if not statement.rstrip().endswith(":= by"):
                raise MonkeysError(f"minif2f theorem {name}: its statement does not end in ':= by'")
            problems.append(
                Problem(
                    problem_id=name,
                    prompt=prompt_for(str(row.get("informal_prefix") or ""), statement),
                    reference="",  # miniF2F ships statements, not proofs
                    fields={
                        "theorem": name,
                        "header": str(row["header"]),
                        "formal_statement": statement,
                        "split": self.split,
                    },
                )
            )
        return select(problems, options)


class MiniF2FValid(MiniF2F):
    """miniF2F's 244 validation theorems, for choosing prompts and settings without touching the test set."""

    name = "minif2f-valid"
    split = "valid"


TASKS.add("minif2f", MiniF2F)
TASKS.add("minif2f-valid", MiniF2FValid)
