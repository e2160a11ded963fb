"""miniF2F and the lean verifier: prompts, extraction, the REPL pool and every soundness rule.

No Lean toolchain can be installed here, so the REPL is `tests/lean_standin.py`, a scripted process that
speaks the REPL's JSON protocol (message shapes from the REPL's README and its test outputs) and decides by
rules of its own. Tests marked `needs_lean` run the same checks against a real project made by
`monkeys lean setup`, wherever MONKEYS_LEAN_PROJECT points at one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.tasks import TASKS, TaskOptions
from monkeys.verifiers.lean import soundness
from monkeys.verifiers.lean.repl import Repl, ReplConfig, ReplPool, ReplTimeout
from monkeys.verifiers.lean.verifier import CONFIG, LeanVerifier, extract_proof

STANDIN = Path(__file__).resolve().parent / "lean_standin.py"
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
STATEMENT = "theorem mathd_algebra_10 (x y : ℤ) (h₀ : 0 < y) (h₁ : x + y = 5) : x < 5 := by\n"
REAL_LEAN = os.environ.get("MONKEYS_LEAN_PROJECT")
needs_lean = pytest.mark.skipif(
    not REAL_LEAN, reason="needs a real Lean project (MONKEYS_LEAN_PROJECT); none here"
)


def problem(statement: str = STATEMENT, header: str = HEADER) -> Problem:
    name = soundness.parse_statement(statement).name
    return Problem(name, "", "", {"theorem": name, "header": header, "formal_statement": statement})


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / CONFIG).write_text(
        json.dumps({"repl": [sys.executable, str(STANDIN)], "toolchain": "standin", "mathlib": "standin"})
    )
    return tmp_path


def verifier(project: Path, **kw: object) -> LeanVerifier:
    return LeanVerifier(lean_project=str(REAL_LEAN or project), **kw)  # type: ignore[arg-type]


# -- the task -------------------------------------------------------------------------------------------


def test_minif2f_test_split_and_the_papers_mathd_subset(data_dir: str) -> None:
    task = TASKS.create("minif2f")
    all_test = task.load(TaskOptions(data_dir=data_dir))
    mathd = task.load(TaskOptions(data_dir=data_dir, subset="mathd"))
    assert len(all_test) == 244 and len(mathd) == 130
    assert all(p.problem_id.startswith("mathd") for p in mathd)
    p = mathd[0]
    assert p.fields["header"].startswith("import Mathlib") and p.fields["formal_statement"].rstrip().endswith(
        ":= by"
    )
    assert p.prompt.endswith(p.fields["formal_statement"]) and p.prompt.count("```lean4") == 4  # 3 solved + 1
    assert len(TASKS.create("minif2f-valid").load(TaskOptions(data_dir=data_dir))) == 244
    with pytest.raises(MonkeysError, match="unknown --subset"):
        task.load(TaskOptions(data_dir=data_dir, subset="nope"))


def test_every_minif2f_statement_parses_into_binders_and_conclusion(data_dir: str) -> None:
    rows = [
        json.loads(line) for line in (Path(data_dir) / "minif2f" / "minif2f.jsonl").read_text().splitlines()
    ]
    for row in rows:
        st = soundness.parse_statement(row["formal_statement"])
        assert st.name == row["name"] and st.conclusion and ":=" not in st.conclusion
    st = soundness.parse_statement(STATEMENT)
    assert st.binders == "(x y : ℤ) (h₀ : 0 < y) (h₁ : x + y = 5)" and st.conclusion == "x < 5"
    assert st.as_type() == "∀ (x y : ℤ) (h₀ : 0 < y) (h₁ : x + y = 5), x < 5"


# -- extraction -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "completion, proof",
    [
        ("  linarith\n```\nmore text", "  linarith\n"),  # the bare continuation, up to the fence
        ("```lean4\n" + STATEMENT + "  omega\n```", "  omega\n"),  # a restated theorem
        ("```lean\nnlinarith [h₀]\n```", "  nlinarith [h₀]\n"),  # only tactics, unindented
        ("", None),
        ("```\n```", None),
    ],
)
def test_proof_extraction(completion: str, proof: str | None) -> None:
    assert extract_proof(completion, STATEMENT) == proof


def test_a_restated_theorem_under_another_name_is_not_taken_as_the_proof() -> None:
    weak = "```lean4\ntheorem mathd_algebra_10_weak : True := by\n  trivial\n```"
    got = extract_proof(weak, STATEMENT)
    assert got is not None and "theorem mathd_algebra_10_weak" in got  # kept, so Lean sees (and rejects) it


# -- the REPL process and pool ---------------------------------------------------------------------------


def test_repl_imports_the_header_once_and_answers_in_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    pool = ReplPool(ReplConfig((sys.executable, str(STANDIN)), max_uses=3), size=1)
    for _ in range(5):
        r = pool.lease(HEADER)
        out = r.send({"cmd": STATEMENT + "  linarith\n", "env": r.header_env}, 30)
        assert "env" in out and "messages" not in out  # empty lists are omitted, as the REPL does
        pool.give_back(r)
    pool.close()
    assert log.read_text().count("import") == 2  # recycled after 3 uses: 2 processes for 5 proofs
    assert pool.recycled == 1


def test_unknown_environment_is_the_repls_own_error() -> None:
    r = Repl(ReplConfig((sys.executable, str(STANDIN))), HEADER)
    try:
        out = r.send({"cmd": "#print axioms x", "env": 99}, 30)
        assert "message" in out and "env" not in out
        judged = soundness.judge(soundness.parse_statement(STATEMENT), out, {"env": 1})
        assert judged.verdict == "error"
    finally:
        r.kill()


def test_a_hung_proof_is_killed_at_its_limit_and_the_process_replaced() -> None:
    r = Repl(ReplConfig((sys.executable, str(STANDIN))), HEADER)
    with pytest.raises(ReplTimeout):  # the stand-in never answers a `repeat`: only the limit ends the wait
        r.send({"cmd": STATEMENT + "  repeat simp\n", "env": r.header_env}, 1.5)
    assert not r.alive  # killed, so its process group holds nothing


def test_header_errors_are_reported_not_swallowed() -> None:
    from monkeys.verifiers.lean.repl import ReplDied

    with pytest.raises(ReplDied, match="header has errors"):
        Repl(ReplConfig((sys.executable, str(STANDIN))), "import MissingThing\n")


# -- verdicts through the verifier ------------------------------------------------------------------------

HOSTILE = {
    "sorry hidden in a have": "  have h : x < 5 := by sorry\n  exact h\n",
    "admit": "  admit\n",
    "native_decide": "  native_decide\n",
    "axiom declared in the proof": "  linarith\naxiom cheat : False\n",
    "set_option skipping the kernel": "  set_option debug.skipKernelTC true in\n  linarith\n",
    "meta code": "  run_tac Lean.Elab.Tactic.evalTactic\n",
    "a new namespace re-proving the name": "  bogus_tactic\nnamespace Fake\ntheorem mathd_algebra_10 : True := by\n  trivial\nend Fake\n",
    "an unknown identifier": "  exact not_a_lemma\n",
    "no proof at all, then another theorem": "theorem other : True := by\n  trivial\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_proofs_never_pass(project: Path, case: str) -> None:
    v = verifier(project, timeout=20)
    try:
        [verdict] = v.check_batch([(problem(), "```lean4\n" + STATEMENT + HOSTILE[case] + "```")])
    finally:
        v.close()
    assert verdict.verdict in ("fail", "error", "timeout"), (case, verdict)


def test_a_proof_that_loops_times_out_and_the_next_proof_is_checked(project: Path) -> None:
    v = verifier(project, timeout=2, workers=1)
    try:
        verdicts = v.check_batch([(problem(), "  repeat simp\n"), (problem(), "  linarith\n")])
    finally:
        v.close()
    assert [x.verdict for x in verdicts] == ["timeout", "pass"]


def test_good_proofs_pass_with_their_axioms_and_size_in_the_detail(project: Path) -> None:
    v = verifier(project, workers=2)
    try:
        verdicts = v.check_batch(
            [(problem(), "  linarith\n```"), (problem(), "  omega\n"), (problem(), "  linarith\n```")]
        )
    finally:
        v.close()
    assert [x.verdict for x in verdicts] == ["pass", "pass", "pass"]
    assert (
        "axioms: Classical.choice, Quot.sound, propext" in verdicts[0].detail
        and "1 lines" in verdicts[0].detail
    )
    assert v.pool.started <= 2


def test_lean_crashing_is_an_error_never_a_pass(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_CRASH_ON", "positivity")
    v = verifier(project)
    try:
        [verdict] = v.check_batch([(problem(), "  positivity\n")])
    finally:
        v.close()
    assert verdict.verdict == "error" and "Lean failed" in verdict.detail


def test_out_of_memory_under_the_per_process_limit_is_an_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_ALLOC_ON", "field_simp")
    v = verifier(project, memory_mb=1024)
    try:
        [verdict] = v.check_batch([(problem(), "  field_simp\n")])
    finally:
        v.close()
    assert verdict.verdict == "error"


# -- the soundness rules, decided on REPL-shaped answers ----------------------------------------------------


def standin_answers(statement: str, proof: str) -> tuple[dict, dict]:
    """The stand-in's answers to the proof and to the check command, with monkeys' forbidden-text rule off."""
    r = Repl(ReplConfig((sys.executable, str(STANDIN))), HEADER)
    try:
        first = r.send({"cmd": statement + proof, "env": r.header_env}, 30)
        st = soundness.parse_statement(statement)
        second = (
            r.send({"cmd": soundness.check_command(st), "env": first["env"]}, 30) if "env" in first else {}
        )
        return first, second
    finally:
        r.kill()


@pytest.mark.parametrize(
    "proof, rule",
    [
        ("  have h : x < 5 := by sorry\n  exact h\n", "sorry"),
        ("  admit\n", "sorry"),
        ("  native_decide\n", "axioms"),
        ("  exact unknown_thing\n", "lean error"),
        ("  linarith\n", "ok"),
    ],
)
def test_each_rule_is_decided_from_the_repls_output(proof: str, rule: str) -> None:
    first, second = standin_answers(STATEMENT, proof)
    judged = soundness.judge(soundness.parse_statement(STATEMENT), first, second)
    assert judged.rule == rule, judged


def test_an_axiom_declared_before_the_theorem_shows_in_print_axioms() -> None:
    r = Repl(ReplConfig((sys.executable, str(STANDIN))), HEADER)
    try:
        env = r.send({"cmd": "axiom cheat : ∀ p : Prop, p", "env": r.header_env}, 30)["env"]
        first = r.send({"cmd": STATEMENT + "  exact cheat\n", "env": env}, 30)
        second = r.send(
            {"cmd": soundness.check_command(soundness.parse_statement(STATEMENT)), "env": first["env"]}, 30
        )
    finally:
        r.kill()
    judged = soundness.judge(soundness.parse_statement(STATEMENT), first, second)
    assert judged.verdict == "fail" and judged.rule == "axioms" and "cheat" in judged.detail


def test_a_changed_statement_fails_the_type_check() -> None:
    r = Repl(ReplConfig((sys.executable, str(STANDIN))), HEADER)
    weaker = "theorem mathd_algebra_10 (x y : ℤ) (h₀ : 0 < y) (h₁ : x + y = 5) : True := by\n"
    try:
        first = r.send({"cmd": weaker + "  trivial\n", "env": r.header_env}, 30)
        second = r.send(
            {"cmd": soundness.check_command(soundness.parse_statement(STATEMENT)), "env": first["env"]}, 30
        )
    finally:
        r.kill()
    judged = soundness.judge(soundness.parse_statement(STATEMENT), first, second)
    assert judged.verdict == "fail" and judged.rule == "statement"


def test_axioms_are_read_across_lean_s_line_wraps() -> None:
    resp = {
        "env": 3,
        "messages": [
            {
                "severity": "info",
                "pos": {"line": 1, "column": 0},
                "endPos": None,
                "data": "'t' depends on axioms: [propext,\n Classical.choice,\n Quot.sound,\n Lean.ofReduceBool]",
            }
        ],
    }
    assert soundness.axioms_of(resp, "t") == {
        "propext",
        "Classical.choice",
        "Quot.sound",
        "Lean.ofReduceBool",
    }
    none = {"env": 3, "messages": [{"severity": "info", "data": "'t' does not depend on any axioms"}]}
    assert soundness.axioms_of(none, "t") == set()
    assert soundness.axioms_of({"env": 3}, "t") is None
    old = {"env": 1, "messages": [{"severity": "warning", "data": "declaration uses 'sorry'"}]}
    assert soundness.uses_sorry(old)  # older Lean quotes with ', newer with `


def test_forbidden_text_ignores_comments_and_names_that_merely_contain_a_word() -> None:
    assert soundness.forbidden("  -- no sorry here\n  linarith\n") is None
    assert soundness.forbidden("  exact sorry_free_lemma\n") is None
    assert soundness.forbidden("  exact foo\n  sorry\n") == "sorry or admit"


# -- set-up and the CLI ---------------------------------------------------------------------------------------


def test_verify_without_a_lean_project_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(MonkeysError, match="--lean-project"):
        LeanVerifier()
    with pytest.raises(MonkeysError, match="monkeys lean setup"):
        LeanVerifier(lean_project=str(tmp_path))


def test_lean_setup_without_internet_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MONKEYS_ELAN_URL": "http://127.0.0.1:9/elan-init.sh",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "monkeys.cli", "lean", "setup", "--dir", str(tmp_path / "proj")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "cannot download elan" in lines[0] and "needs internet" in lines[0]


@pytest.mark.e2e
def test_sample_then_verify_minif2f_through_the_cli(tmp_path: Path, project: Path, data_dir: str) -> None:
    """Import completions for two mathd theorems and verify them through `monkeys verify --lean-project`."""
    mathd = TASKS.create("minif2f").load(TaskOptions(data_dir=data_dir, subset="mathd", limit=2))
    rows = []
    for p in mathd:
        rows += [
            {"problem_id": p.problem_id, "text": "  linarith\n```"},
            {"problem_id": p.problem_id, "text": "  sorry\n```"},
        ]
    f = tmp_path / "s.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = {**os.environ, "MONKEYS_CACHE_DIR": str(tmp_path / "cache")}
    run = tmp_path / "run"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "monkeys.cli",
            "import",
            str(f),
            "--run",
            str(run),
            "--task",
            "minif2f",
            "--data-dir",
            data_dir,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "monkeys.cli", "verify", "--run", str(run), "--lean-project", str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "verdicts: pass 2  fail 2" in proc.stdout


@needs_lean
def test_real_lean_checks_a_known_proof_and_rejects_sorry() -> None:
    v = verifier(Path(REAL_LEAN or "."), timeout=300)
    try:
        verdicts = v.check_batch(
            [(problem(), "  linarith\n"), (problem(), "  sorry\n"), (problem(), "  native_decide\n")]
        )
    finally:
        v.close()
    assert [x.verdict for x in verdicts] == ["pass", "fail", "fail"]
