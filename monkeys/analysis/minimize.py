"""A small box-constrained minimiser for the distributional fits, vectorised over evaluation points.

The fits' negative log-likelihoods cost about as much for a batch of 20 parameter vectors as for 4 single
calls (numpy overhead dominates), so every Newton iteration evaluates its whole finite-difference stencil
(gradient and Hessian: 1 + p(p+3)/2 points) in one call, and its line search in another. Every start
runs in the same calls. About 10 iterations reach the optimum where Nelder-Mead needed ~300 single calls,
and scipy.optimize (a fifth of a second to import) is not needed at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STEPS = (8.0, 2.0, 1.0, 0.5, 0.2, 0.05)  # line-search fractions of the Newton step, tried at once
INFEASIBLE = 1e299  # objective values at or above this mark points outside the model's support


@dataclass
class Result:
    x: np.ndarray
    fun: float
    nfev: int  # objective evaluations (points, not calls)
    nit: int
    converged: bool


def stencil(x: np.ndarray, h: float) -> np.ndarray:
    """The points of central differences around x: x, x +- h e_i, then x +- h e_i +- h e_j for i < j."""
    p = len(x)
    pts = [x]
    eye = np.eye(p) * h
    for i in range(p):
        pts += [x + eye[i], x - eye[i]]
    for i in range(p):
        for j in range(i + 1, p):
            pts += [x + eye[i] + eye[j], x + eye[i] - eye[j], x - eye[i] + eye[j], x - eye[i] - eye[j]]
    return np.array(pts)


def derivatives(values: np.ndarray, p: int, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian by central differences from the objective at `stencil(x, h)`."""
    f0 = values[0]
    g, hess = np.empty(p), np.empty((p, p))
    for i in range(p):
        up, down = values[1 + 2 * i], values[2 + 2 * i]
        g[i] = (up - down) / (2 * h)
        hess[i, i] = (up - 2 * f0 + down) / h**2
    k = 1 + 2 * p
    for i in range(p):
        for j in range(i + 1, p):
            pp, pm, mp, mm = values[k : k + 4]
            hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h**2)
            k += 4
    return g, hess


def newton_stencil(x: np.ndarray, h: float) -> np.ndarray:
    """Fewer points for the Newton steps: x, x +- h e_i, and x + h e_i + h e_j for i < j (1 + p(p+3)/2)."""
    p = len(x)
    eye = np.eye(p) * h
    pts = [x]
    for i in range(p):
        pts += [x + eye[i], x - eye[i]]
    pts += [x + eye[i] + eye[j] for i in range(p) for j in range(i + 1, p)]
    return np.array(pts)


def newton_derivatives(values: np.ndarray, p: int, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian diagonal, forward-difference off-diagonals, from the
    objective at `newton_stencil(x, h)`: the gradient (which fixes the optimum) is O(h^2) accurate; the
    Hessian only shapes the steps."""
    f0 = values[0]
    g, hess = np.empty(p), np.empty((p, p))
    up, down = values[1 : 1 + 2 * p : 2], values[2 : 2 + 2 * p : 2]
    g[:] = (up - down) / (2 * h)
    hess[np.diag_indices(p)] = (up - 2 * f0 + down) / h**2
    k = 1 + 2 * p
    for i in range(p):
        for j in range(i + 1, p):
            hess[i, j] = hess[j, i] = (values[k] - up[i] - up[j] + f0) / h**2
            k += 1
    return g, hess


def minimize_box(
    f: Callable[[np.ndarray], np.ndarray],
    starts: list[np.ndarray],
    bound: float,
    h: float = 1e-3,
    xtol: float = 1e-7,
    ftol: float = 1e-11,
    max_iter: int = 60,
) -> Result:
    """Minimise f over the box [-bound, bound]^p from each start; the best optimum found is returned.

    `f` maps points (R, p) to values (R,); values >= INFEASIBLE mark points the model cannot produce.
    Damped Newton (Levenberg) on finite-difference derivatives with a projected step: a coordinate at a
    bound whose gradient pushes outwards is held there. A start stops when a step moves no coordinate by
    more than `xtol`, improves f by less than `ftol` (relative to max(1, |f|)), or no step improves."""
    p = len(starts[0])
    xs = [np.clip(np.asarray(s, dtype=np.float64), -bound, bound) for s in starts]
    fx = f(np.array(xs))
    nfev = len(xs)
    lam = [1e-6] * len(xs)
    active = [bool(v < INFEASIBLE) for v in fx]
    done = [False] * len(xs)
    nit = 0
    for nit in range(1, max_iter + 1):  # noqa: B007  (nit is reported)
        live = [i for i in range(len(xs)) if active[i] and not done[i]]
        if not live:
            break
        pts = np.concatenate([newton_stencil(xs[i], h) for i in live])
        vals = f(np.clip(pts, -bound, bound)).reshape(len(live), -1)
        nfev += pts.shape[0]
        steps = []
        for row, i in zip(vals, live, strict=True):
            g, hess = newton_derivatives(row, p, h)
            if not np.all(row < INFEASIBLE) or not np.isfinite(g).all() or not np.isfinite(hess).all():
                g, hess = _one_sided(row, p, h), np.eye(p) * max(1.0, abs(row[0]))  # a cautious descent
            free = ~(((xs[i] >= bound) & (g < 0)) | ((xs[i] <= -bound) & (g > 0)))
            d = np.zeros(p)
            if free.any():
                d[free] = _damped_step(hess[np.ix_(free, free)], g[free], lam[i])
            steps.append(d)
        trial = np.array(
            [np.clip(xs[i] + a * d, -bound, bound) for i, d in zip(live, steps, strict=True) for a in STEPS]
        )
        tv = f(trial).reshape(len(live), len(STEPS))
        nfev += trial.shape[0]
        for j, i in enumerate(live):
            best = int(np.argmin(tv[j]))
            new_x, new_f = trial[j * len(STEPS) + best], float(tv[j, best])
            if new_f < fx[i]:
                moved = float(np.max(np.abs(new_x - xs[i])))
                gain = float(fx[i] - new_f)
                xs[i], fx[i] = new_x, new_f
                lam[i] = max(lam[i] / 10, 1e-9) if STEPS[best] >= 1 else lam[i] * 4
                if moved < xtol or gain < ftol * max(1.0, abs(new_f)):
                    done[i] = True
            else:
                lam[i] *= 100
                if lam[i] > 1e8 or float(np.max(np.abs(steps[j]))) < xtol:
                    done[i] = True
    i = int(np.argmin(fx))
    return Result(xs[i], float(fx[i]), nfev, nit, bool(done[i]))


def _damped_step(hess: np.ndarray, g: np.ndarray, lam: float) -> np.ndarray:
    """-(H + mu I)^-1 g with mu from `lam` scaled to H, raised until H + mu I is positive definite."""
    scale = max(float(np.max(np.abs(np.diag(hess)))), 1e-12)
    mu = lam * scale
    eye = np.eye(len(g))
    for _ in range(40):
        try:
            chol = np.linalg.cholesky(hess + mu * eye)
        except np.linalg.LinAlgError:
            mu = max(mu * 10, 1e-8 * scale)
            continue
        return -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
    return -g / scale


def _one_sided(values: np.ndarray, p: int, h: float) -> np.ndarray:
    """A gradient from whichever neighbour of each coordinate is feasible (at an infeasible edge)."""
    g = np.zeros(p)
    f0 = values[0]
    for i in range(p):
        up, down = values[1 + 2 * i], values[2 + 2 * i]
        if up < INFEASIBLE and down < INFEASIBLE:
            g[i] = (up - down) / (2 * h)
        elif up < INFEASIBLE:
            g[i] = (up - f0) / h
        elif down < INFEASIBLE:
            g[i] = (f0 - down) / h
    return g


def nelder_mead(
    f: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    xatol: float = 1e-4,
    fatol: float = 1e-4,
    maxiter: float | None = None,
    maxfev: float | None = None,
    initial_simplex: np.ndarray | None = None,
) -> Result:
    """Nelder-Mead exactly as scipy.optimize.minimize(method="Nelder-Mead") runs it without bounds (the same
    iterates, the same stopping rules and counts, so the same optimum to the last bit), without importing
    scipy.optimize. `f` maps points (R, p) to values (R,): the initial simplex and a shrink are evaluated in
    one call each."""
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    rho, chi, psi, sigma = 1.0, 2.0, 0.5, 0.5
    if initial_simplex is None:
        n = len(x0)
        sim = np.tile(x0, (n + 1, 1))
        for k in range(n):
            sim[k + 1, k] = (1 + 0.05) * x0[k] if x0[k] != 0 else 0.00025
    else:
        sim = np.array(initial_simplex, dtype=np.float64)
        n = sim.shape[1]
    if maxiter is None and maxfev is None:
        maxiter = maxfev = n * 200
    elif maxiter is None:
        maxiter = n * 200 if maxfev == np.inf else np.inf
    elif maxfev is None:
        maxfev = n * 200 if maxiter == np.inf else np.inf
    calls = 0

    def one(x: np.ndarray) -> float | None:  # None: out of evaluations (scipy raises and ends the step)
        nonlocal calls
        if calls >= maxfev:
            return None
        calls += 1
        return float(f(x[None, :])[0])

    fsim = np.full(n + 1, np.inf)
    m = int(min(n + 1, maxfev))
    fsim[:m] = f(sim[:m])
    calls += m
    order = np.argsort(fsim)
    sim, fsim = sim[order], fsim[order]
    iterations = 1
    while calls < maxfev and iterations < maxiter:
        if np.max(np.abs(sim[1:] - sim[0])) <= xatol and np.max(np.abs(fsim[0] - fsim[1:])) <= fatol:
            break
        xbar = sim[:-1].sum(axis=0) / n
        xr = (1 + rho) * xbar - rho * sim[-1]
        fxr = one(xr)
        if fxr is not None:
            stopped = False
            shrink = False
            if fxr < fsim[0]:
                xe = (1 + rho * chi) * xbar - rho * chi * sim[-1]
                fxe = one(xe)
                if fxe is None:
                    stopped = True
                elif fxe < fxr:
                    sim[-1], fsim[-1] = xe, fxe
                else:
                    sim[-1], fsim[-1] = xr, fxr
            elif fxr < fsim[-2]:
                sim[-1], fsim[-1] = xr, fxr
            else:
                if fxr < fsim[-1]:
                    xc = (1 + psi * rho) * xbar - psi * rho * sim[-1]
                    fxc = one(xc)
                    if fxc is None:
                        stopped = True
                    elif fxc <= fxr:
                        sim[-1], fsim[-1] = xc, fxc
                    else:
                        shrink = True
                else:
                    xcc = (1 - psi) * xbar + psi * sim[-1]
                    fxcc = one(xcc)
                    if fxcc is None:
                        stopped = True
                    elif fxcc < fsim[-1]:
                        sim[-1], fsim[-1] = xcc, fxcc
                    else:
                        shrink = True
                if shrink:
                    m = int(min(n, maxfev - calls))  # vertices scipy evaluates before it runs out
                    moved = min(n, m + 1)  # it moves each vertex before evaluating it
                    sim[1 : 1 + moved] = sim[0] + sigma * (sim[1 : 1 + moved] - sim[0])
                    if m > 0:
                        fsim[1 : 1 + m] = f(sim[1 : 1 + m])
                        calls += m
                    stopped = m < n
            if not stopped:
                iterations += 1
        order = np.argsort(fsim)
        sim, fsim = sim[order], fsim[order]
    return Result(
        sim[0], float(np.min(fsim)), calls, iterations, bool(calls < maxfev and iterations < maxiter)
    )


__all__ = ["INFEASIBLE", "Result", "derivatives", "minimize_box", "nelder_mead", "stencil"]
