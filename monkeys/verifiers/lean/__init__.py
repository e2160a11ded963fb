"""The `lean` verifier: Lean 4 proofs checked soundly by a pool of warm Lean REPL processes."""
