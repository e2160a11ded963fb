"""The fits' own minimisers: Nelder-Mead as scipy runs it, and the batched box-constrained Newton."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from monkeys.analysis.minimize import minimize_box, nelder_mead


def rosenbrock_rows(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(x)
    return np.sum(100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2, axis=1)


@pytest.mark.parametrize(
    "x0, options",
    [
        ([-1.2, 1.0], {}),
        ([0.0, 0.0, 0.0], {"xatol": 1e-3, "fatol": 1e-4, "maxiter": 2000}),
        ([2.0, -1.0, 0.5], {"xatol": 1e-2, "fatol": 1e-2, "maxfev": 100}),  # stops on evaluations
        ([1.5, 1.5, 1.5, 1.5], {"maxfev": 37}),  # runs out inside a step
        ([0.3, 0.1], {"maxiter": 15}),
    ],
)
def test_nelder_mead_follows_scipy_exactly(x0, options):
    ref = optimize.minimize(lambda x: float(rosenbrock_rows(x)[0]), x0, method="Nelder-Mead", options=options)
    ours = nelder_mead(rosenbrock_rows, np.array(x0), **options)
    assert np.array_equal(ours.x, ref.x)
    assert ours.fun == ref.fun
    assert ours.nfev == ref.nfev
    assert ours.nit == ref.nit


def test_nelder_mead_with_an_initial_simplex_follows_scipy():
    x0 = np.array([0.5, -0.5, 1.0])
    simplex = x0 + np.vstack([np.zeros(3), 0.03 * np.eye(3)])
    options = {"xatol": 1e-3, "fatol": 1e-4, "maxiter": 2000}
    ref = optimize.minimize(
        lambda x: float(rosenbrock_rows(x)[0]),
        x0,
        method="Nelder-Mead",
        options={**options, "initial_simplex": simplex},
    )
    ours = nelder_mead(rosenbrock_rows, x0, **options, initial_simplex=simplex)
    assert np.array_equal(ours.x, ref.x) and ours.nfev == ref.nfev


def test_box_newton_finds_an_interior_minimum_and_holds_a_bound():
    centre = np.array([0.7, -2.0, 3.0])
    hess = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])

    def f(x: np.ndarray) -> np.ndarray:
        d = np.atleast_2d(x) - centre
        return 0.5 * np.einsum("ri,ij,rj->r", d, hess, d) + 1.0

    inside = minimize_box(f, [np.zeros(3), np.array([5.0, 5.0, -5.0])], bound=10.0)
    assert inside.converged
    assert np.allclose(inside.x, centre, atol=1e-6) and inside.fun == pytest.approx(1.0)
    # the same quadratic in a box that cuts the third coordinate at 2: the constrained optimum
    edge = minimize_box(f, [np.zeros(3)], bound=2.0)
    assert edge.x[2] == pytest.approx(2.0)
    # at x3 = 2 the others minimise the quadratic given x3: solve the 2x2 block
    rest = centre[:2] - np.linalg.solve(hess[:2, :2], hess[:2, 2] * (2.0 - centre[2]))
    assert np.allclose(edge.x[:2], rest, atol=1e-5)


def test_box_newton_steps_around_an_infeasible_region():
    """Values >= INFEASIBLE mark points the model cannot produce (a scale below an observed rate)."""

    def f(x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        v = (x[:, 0] - 1.0) ** 2 + (x[:, 1] + 0.5) ** 2
        return np.where(x[:, 0] < -3.0, 1e300, v)

    res = minimize_box(f, [np.array([-2.9995, 2.0])], bound=5.0)
    assert np.allclose(res.x, [1.0, -0.5], atol=1e-5)
