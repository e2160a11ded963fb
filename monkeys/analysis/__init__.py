"""From outcome counts and verdicts to coverage curves, scaling laws, extrapolation and selection methods.

- `outcomes`: per-problem counts from an outcomes CSV or a run's verdicts (validated).
- `coverage`: unbiased pass@k (Chen et al., 2021) in log space, bootstrap intervals, breakdowns.
- `fits`, `distributional`: the paper's power law, -log c = A k^-B, and beta-binomial / scaled Beta MLEs.
- `extrapolate`: coverage beyond the samples drawn, with intervals and a back-tested recommendation.
- `votes`, `selection`: majority vote, best-of-k and weighted vote, exact over all subsets and by the
  paper's random-subset protocol.
- `results`: what `fit-scaling` and `select` return, as frozen records (`ScalingResult`, `ConfigFit`,
  `LawFit`, `Extrapolation`, `SelectionResult`, `MethodCurve`, ...); their `to_json` is the JSON contract.
- `report`, `plots`: assembling those results and the CSV of `monkeys fit-scaling` / `monkeys select`,
  and their PNGs.
"""
