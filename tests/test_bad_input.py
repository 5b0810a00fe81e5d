"""The bad-input walk: every public callable keeps the validation promise of ``_validate.py``.

Issue #21, item 6. Every public callable of the companion's topic modules (``__all__`` of
``companion.<topic>`` and of the ``companion.zoo`` package, the public methods of their classes,
and the check functions of ``companion.exercises``) is called with a valid example from
:data:`EXAMPLES`, then once per parameter with that argument replaced by a bad one, the way a
fuzzer would. A call passes when it

* raises ``ValueError`` or ``TypeError`` (or an exception class of the companion, such as
  ``CheckFailed``) from a ``raise`` statement inside ``companion/`` — a clear error; or
* returns, and for an *invalid* input (see :data:`INVALID`) the result holds no NaN or inf —
  for a merely *unusual* input (a list, a NumPy array, zero, a negative number) any finite
  result is fine, and a non-finite one is an error too unless :data:`MAY_RETURN_INF` says the
  callable's docstring promises it.

It fails when the call returns NaN/inf silently, raises from inside torch or NumPy (an
``IndexError``, a ``RuntimeError``, a ``TypeError`` that no companion ``raise`` wrote), or runs
longer than :data:`TIME_LIMIT` seconds (a huge iteration count must be refused, not run).

Bad inputs, per kind of valid argument (invalid ones marked *; the rest are unusual and may be
accepted, but then must not give NaN/inf):

* floating tensor: NaN entry*, inf entry*, empty*, an extra trailing dimension, all negative,
  all zero, a Python list, a NumPy array, an integer tensor, and — for a probability vector —
  twice it (unnormalised*);
* integer tensor: shifted far below zero, far above, as floats;
* int: -1, 0, 10**12 (huge: refused, or an out-of-memory error that names the size), a
  fraction, its text ("3")*;
* real number: NaN*, inf*, -1, 0, its text*;
* string option: "no-such-option"*; bool: "yes"; tuple of numbers: a NaN entry, reversed,
  empty; callable: a non-callable 3.

A public callable missing from :data:`EXAMPLES` makes :func:`test_every_public_callable_is_walked`
fail: a new public function gets an example here. ``fit``, ``fit_*`` and ``prepare_data`` are
listed in :data:`COVERED_ELSEWHERE` (their bad-input tests live with the fit contract), records
(NamedTuples and result dataclasses) in :data:`RECORDS`; the explore modules' figure builders are
walked by ``tests/test_explorer_contract.py``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import linecache
import math
import numbers
import pkgutil
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

import companion
import companion.exercises as exercises
from companion import (
    components,
    data,
    diffusion,
    divergences,
    flows,
    functional,
    gan,
    inference,
    information,
    linalg,
    manifolds,
    models,
    optimization,
    rl,
    sampling,
    vae,
    zoo,
)

F64 = torch.float64
COMPANION_DIR = Path(companion.__file__).resolve().parent
TOPIC_MODULES = {
    "components": components,
    "data": data,
    "diffusion": diffusion,
    "divergences": divergences,
    "flows": flows,
    "functional": functional,
    "gan": gan,
    "inference": inference,
    "information": information,
    "linalg": linalg,
    "manifolds": manifolds,
    "models": models,
    "optimization": optimization,
    "rl": rl,
    "sampling": sampling,
    "vae": vae,
    "zoo": zoo,
}
#: Seconds one call may run before it counts as a hang.
TIME_LIMIT = 5.0
#: A "huge size" for counts: far beyond any memory, so an unchecked allocation fails at once
#: (and an unchecked Python loop hits TIME_LIMIT).
HUGE = 10**12

# ----------------------------------------------------------------------------------------------
# Bad inputs, per kind of valid argument. INVALID inputs must be refused or give a finite result;
# the others (unusual but possibly meaningful) may succeed but must not give NaN/inf.

#: A module's ``forward`` checks types and shapes but not values: NaN in, NaN out (a finiteness
#: check would synchronise the GPU on every training step). Every other callable refuses NaN.
#: The same holds for these thin wrappers of a network's forward pass.
NAN_PROPAGATES = {
    "diffusion.DiffusionModel.eps",
    "diffusion.DiffusionModel.score",
    "flows.AffineCoupling.scale_shift",
    "zoo.DiscreteAutoregressive.logits_from_onehot",
    "models.gaussian_log_prob",  # the fits' log-density, run in every training step
}

#: Names of the mutations that make an argument invalid whatever the callable.
INVALID = {"nan", "inf", "empty", "unnormalised", "nan_scalar", "inf_scalar", "text", "option"}


def _float_tensor_mutations(x: torch.Tensor) -> dict[str, object]:
    out: dict[str, object] = {}
    flat = x.detach().clone().reshape(-1)
    nan, inf = flat.clone(), flat.clone()
    nan[0], inf[-1] = math.nan, math.inf
    out["nan"], out["inf"] = nan.reshape(x.shape), inf.reshape(x.shape)
    out["empty"] = x.detach()[:0] if x.ndim else torch.empty(0, dtype=x.dtype)
    out["misshaped"] = x.detach().unsqueeze(-1).expand(*x.shape, 3).clone()
    out["negative"] = -x.detach().abs() - 1
    out["zeros"] = torch.zeros_like(x.detach())
    out["list"] = x.detach().tolist()
    out["numpy"] = x.detach().cpu().numpy()
    out["int_tensor"] = x.detach().round().long()
    if (
        x.ndim
        and x.numel()
        and bool((x >= 0).all())
        and bool(torch.allclose(x.detach().sum(-1), torch.ones((), dtype=x.dtype), atol=1e-6))
    ):
        out["unnormalised"] = x.detach() * 2
    return out


def _int_mutations(v: int) -> dict[str, object]:
    return {"negative": -1, "zero": 0, "huge": HUGE, "fractional": v + 0.5, "text": str(v)}


def _real_mutations(v: float) -> dict[str, object]:
    return {
        "nan_scalar": math.nan,
        "inf_scalar": math.inf,
        "negative": -1.0,
        "zero": 0.0,
        "text": str(v),
    }


def mutations(value: object) -> dict[str, object]:
    """The bad inputs tried in place of the valid ``value`` (none for kinds not fuzzed)."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            return _float_tensor_mutations(value)
        if value.dtype in (torch.long, torch.int32):
            return {
                "negative": value - 10**6,
                "huge": value + 10**6,
                "float_tensor": value.double(),
            }
        return {}
    if isinstance(value, bool):
        return {"not_a_bool": "yes"}
    if value is None:
        return {}
    if isinstance(value, numbers.Integral):
        return _int_mutations(int(value))
    if isinstance(value, numbers.Real):
        return _real_mutations(float(value))
    if isinstance(value, str):
        return {"option": "no-such-option"}
    if isinstance(value, tuple) and value and all(isinstance(v, numbers.Real) for v in value):
        return {
            "nan_entry": (math.nan, *value[1:]),
            "reversed": tuple(reversed(value)),
            "empty_tuple": (),
        }
    if callable(value) and not isinstance(value, torch.nn.Module):
        return {"not_callable": 3}
    return {}


# ----------------------------------------------------------------------------------------------
# Judging one call


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):  # pragma: no cover - only on a hang
    raise _Hang


def _finite(out: object) -> bool:
    """Whether every number inside ``out`` (tensors, arrays, floats, containers) is finite."""
    if isinstance(out, torch.Tensor):
        return not out.is_floating_point() or bool(torch.isfinite(out.detach()).all())
    if isinstance(out, np.ndarray):
        return not np.issubdtype(out.dtype, np.floating) or bool(np.isfinite(out).all())
    if isinstance(out, bool | int | str) or out is None:
        return True
    if isinstance(out, float):
        return math.isfinite(out)
    if isinstance(out, dict):
        return all(_finite(v) for v in out.values())
    if isinstance(out, list | tuple):
        return all(_finite(v) for v in out)
    if dataclasses.is_dataclass(out):
        return all(_finite(getattr(out, f.name)) for f in dataclasses.fields(out))
    return True


def _raised_by_companion(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc`` is a ``raise`` statement in companion/."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    path = Path(tb.tb_frame.f_code.co_filename).resolve()
    if COMPANION_DIR not in path.parents:
        return False
    return linecache.getline(str(path), tb.tb_lineno).lstrip().startswith("raise")


def _out_of_memory(exc: BaseException) -> bool:
    """A huge size may also be refused by the allocator, whose message names the size."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in str(exc) or "Storage size calculation overflowed" in str(exc)
    )


def _clear_error(exc: BaseException, mutation: str = "") -> bool:
    if mutation == "huge" and _out_of_memory(exc):
        return True
    if not _raised_by_companion(exc):
        return False
    if isinstance(exc, ValueError | TypeError):
        return True
    return type(exc).__module__.startswith("companion")


_OK = object()  # the call raised a clear error: nothing to judge


def _call(fn: Callable, kwargs: dict, mutation: str, accepted=()) -> tuple[object, str | None]:
    """Call ``fn(**kwargs)`` under the time limit: ``(result, None)``, or ``(_OK, None)`` for a
    clear error (or one of ``accepted``), or ``(None, complaint)``."""
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        return fn(**kwargs), None
    except _Hang:
        return (
            None,
            f"{mutation}: still running after {TIME_LIMIT:g} s (a huge size must be refused)",
        )
    except accepted:
        return _OK, None
    except Exception as exc:  # noqa: BLE001 - judged below
        if _clear_error(exc, mutation):
            return _OK, None
        return None, f"{mutation}: {type(exc).__name__} not raised by companion: {str(exc)[:160]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def judge(fn: Callable, kwargs: dict, mutation: str, key: str) -> str | None:
    """Call ``fn(**kwargs)``; return None if it behaved, else a one-line complaint."""
    out, complaint = _call(fn, kwargs, mutation)
    if complaint is not None or out is _OK:
        return complaint
    if _finite(out):
        return None
    network = key.endswith(".forward") or key in NAN_PROPAGATES
    if network and mutation in ("nan", "inf", "nan_scalar", "inf_scalar"):
        return None
    if (key, mutation) in MAY_RETURN_INF or (key, "*") in MAY_RETURN_INF:
        return None
    kind = "invalid" if mutation in INVALID else "unusual"
    return f"{mutation}: returned NaN/inf silently for an {kind} input"


# ----------------------------------------------------------------------------------------------
# Valid examples. Small tensors, few steps: the walk makes thousands of calls.


def _t(values, dtype=F64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


def _randn(*shape, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


P3 = _t([0.2, 0.3, 0.5])
Q3 = _t([0.4, 0.4, 0.2])
X8 = _randn(8, 2)
Y8 = _randn(8, 2, seed=1) + 0.5
SPD = _t([[2.0, 0.3], [0.3, 1.0]])
ROW = _t([[0.9, 0.1], [0.2, 0.8]])
V2 = _t([0.5, -0.5])
Z4 = _randn(4, 2, seed=2)
X8F = X8.float()


def _schedule():
    return diffusion.NoiseSchedule(T=10)


def _mlp_disc():
    return torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    ).double()


def _decoder(z):
    return torch.stack([z[..., 0], z[..., 1], z[..., 0] * z[..., 1]], dim=-1)


def _gmm():
    return inference.GMMParams(
        weights=_t([0.5, 0.5]),
        means=_t([[0.0, 0.0], [1.0, 1.0]]),
        covs=torch.eye(2, dtype=F64).repeat(2, 1, 1),
    )


def _mdp():
    return rl.grid_world(2, 3)


def _policy(mdp=None):
    mdp = mdp or _mdp()
    return torch.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions, dtype=F64)


def _small_vae():
    return vae.VAE(2, latent_dim=2, hidden=(8,)).double()


def _bits(n: int, d: int) -> torch.Tensor:
    return (torch.arange(n * d).reshape(n, d) % 2).float()


def _kernel_ridge():
    return functional.KernelRidge("rbf", lam=0.1).fit(_randn(6, 1), _randn(6))


#: key -> factory of keyword arguments for a valid call. For a method, the key is
#: "module.Class.method" and the value a pair (factory of the instance, factory of the kwargs).
EXAMPLES: dict[str, Callable] = {
    # components
    "components.activation": lambda: dict(name="tanh", x=X8),
    "components.activation_derivative": lambda: dict(name="tanh", x=X8),
    "components.softmax": lambda: dict(z=X8, temperature=1.0, dim=-1),
    "components.log_softmax": lambda: dict(z=X8, temperature=1.0, dim=-1),
    "components.softmax_entropy": lambda: dict(z=X8, temperature=1.0, dim=-1),
    "components.scaled_dot_product_attention": lambda: dict(
        q=_randn(3, 2), k=_randn(4, 2), v=_randn(4, 2), scale=0.5
    ),
    "components.causal_mask": lambda: dict(n_queries=3, n_keys=4),
    "components.layer_norm": lambda: dict(
        x=X8, normalized_dims=1, weight=_t([1.0, 2.0]), bias=V2, eps=1e-5
    ),
    "components.convolve1d": lambda: dict(f=_randn(6), h=_randn(3)),
    "components.cross_correlate1d": lambda: dict(f=_randn(6), h=_randn(3)),
    "components.circular_convolve": lambda: dict(f=_randn(6), h=_randn(6)),
    "components.fft_circular_convolve": lambda: dict(f=_randn(6), h=_randn(6)),
    "components.conv1d": lambda: dict(
        x=_randn(1, 2, 6), weight=_randn(3, 2, 2), bias=_randn(3), stride=1, padding=1, dilation=1
    ),
    "components.conv2d": lambda: dict(
        x=_randn(1, 1, 5, 5),
        weight=_randn(2, 1, 2, 2),
        bias=_randn(2),
        stride=1,
        padding=1,
        dilation=1,
    ),
    "components.max_pool2d": lambda: dict(x=_randn(1, 1, 4, 4), kernel_size=2, stride=2),
    "components.avg_pool2d": lambda: dict(x=_randn(1, 1, 4, 4), kernel_size=2, stride=2),
    "components.conv_output_size": lambda: dict(
        length=10, kernel_size=3, stride=1, padding=1, dilation=1
    ),
    "components.receptive_field": lambda: dict(
        kernel_sizes=[3, 3], strides=[1, 2], dilations=[1, 1]
    ),
    "components.conv2d_param_count": lambda: dict(channels=3, kernel=(3, 3), filters=8),
    "components.dense_param_count": lambda: dict(n_in=4, n_out=3),
    "components.locally_connected_param_count": lambda: dict(
        image=(8, 8, 3), kernel=(3, 3), filters=2
    ),
    "components.rnn_cell": lambda: dict(
        x=_randn(2, 3), h=_randn(2, 4), w_ih=_randn(4, 3), w_hh=_randn(4, 4), nonlinearity="tanh"
    ),
    "components.lstm_cell": lambda: dict(
        x=_randn(2, 3), h=_randn(2, 4), c=_randn(2, 4), w_ih=_randn(16, 3), w_hh=_randn(16, 4)
    ),
    "components.gru_cell": lambda: dict(
        x=_randn(2, 3), h=_randn(2, 4), w_ih=_randn(12, 3), w_hh=_randn(12, 4)
    ),
    "components.recurrent_jacobian_norms": lambda: dict(
        w_hh=_randn(3, 3) * 0.5, h0=_randn(3), inputs=_randn(5, 3), nonlinearity="tanh"
    ),
    "components.binary_cross_entropy": lambda: dict(
        p=_t([0.2, 0.7]), target=_t([0.0, 1.0]), reduction="mean"
    ),
    "components.binary_cross_entropy_with_logits": lambda: dict(
        logits=V2, target=_t([0.0, 1.0]), reduction="mean"
    ),
    "components.cross_entropy": lambda: dict(
        logits=_randn(3, 4), target=torch.tensor([0, 2, 3]), reduction="mean"
    ),
    "components.mse_loss": lambda: dict(pred=V2, target=_t([0.0, 1.0]), reduction="mean"),
    "components.focal_loss": lambda: dict(
        logits=V2, target=_t([0.0, 1.0]), gamma=2.0, alpha=0.25, reduction="mean"
    ),
    "components.focal_loss_multiclass": lambda: dict(
        logits=_randn(3, 4), target=torch.tensor([0, 2, 3]), gamma=2.0, reduction="mean"
    ),
    # data
    "data.moons": lambda: dict(n=16, noise=0.05, seed=0),
    "data.ring": lambda: dict(n=16, modes=4, radius=2.0, std=0.02, seed=0),
    "data.grid": lambda: dict(n=16, side=3, spacing=2.0, std=0.02, seed=0),
    "data.swiss_roll": lambda: dict(n=16, noise=0.1, seed=0),
    "data.digits": lambda: dict(),
    "data.ring_centers": lambda: dict(modes=4, radius=2.0),
    "data.grid_centers": lambda: dict(side=3, spacing=2.0),
    "data.mode_coverage": lambda: dict(
        samples=X8, centers=data.ring_centers(4, dtype=F64), std=0.5, threshold=3.0, min_count=1
    ),
    # diffusion
    "diffusion.NoiseSchedule": lambda: dict(
        kind="linear", T=10, beta_start=1e-4, beta_end=0.02, cosine_s=0.008, max_beta=0.999
    ),
    "diffusion.NoiseSchedule.beta": (_schedule, lambda: dict(t=3)),
    "diffusion.NoiseSchedule.alpha": (_schedule, lambda: dict(t=3)),
    "diffusion.NoiseSchedule.alpha_bar": (_schedule, lambda: dict(t=3)),
    "diffusion.NoiseSchedule.snr": (_schedule, lambda: dict(t=3)),
    "diffusion.NoiseSchedule.log_snr": (_schedule, lambda: dict(t=3)),
    "diffusion.NoiseSchedule.posterior_variance": (_schedule, lambda: dict(t=3)),
    "diffusion.NoiseSchedule.q_sample": (_schedule, lambda: dict(x0=X8, t=3, noise=Y8)),
    "diffusion.NoiseSchedule.q_posterior": (_schedule, lambda: dict(x0=X8, xt=Y8, t=3)),
    "diffusion.NoiseSchedule.predict_x0": (_schedule, lambda: dict(xt=X8, t=3, eps=Y8)),
    "diffusion.NoiseSchedule.p_mean": (_schedule, lambda: dict(xt=X8, t=3, eps=Y8)),
    "diffusion.NoiseSchedule.sampling_variance": (
        _schedule,
        lambda: dict(t=3, variance="beta_tilde"),
    ),
    "diffusion.NoiseSchedule.ddpm_step": (
        _schedule,
        lambda: dict(xt=X8, t=3, eps=Y8, noise=Z4.repeat(2, 1), variance="beta"),
    ),
    "diffusion.NoiseSchedule.ddim_step": (
        _schedule,
        lambda: dict(xt=X8, t=3, s=1, eps=Y8, eta=0.5, noise=Z4.repeat(2, 1)),
    ),
    "diffusion.NoiseSchedule.ddim_timesteps": (_schedule, lambda: dict(steps=5)),
    "diffusion.NoiseSchedule.eps_to_score": (_schedule, lambda: dict(eps=X8, t=3)),
    "diffusion.NoiseSchedule.score_to_eps": (_schedule, lambda: dict(score=X8, t=3)),
    "diffusion.NoiseSchedule.elbo_weight": (_schedule, lambda: dict(t=3, variance="beta_tilde")),
    "diffusion.timestep_embedding": lambda: dict(t=torch.tensor([1, 5]), dim=8, max_period=1e4),
    "diffusion.EpsilonMLP": lambda: dict(dim=2, hidden=8, layers=2, emb_dim=4),
    "diffusion.EpsilonMLP.forward": (
        lambda: diffusion.EpsilonMLP(2, 8, 2, 4),
        lambda: dict(x=X8F, t=torch.arange(8)),
    ),
    "diffusion.DiffusionModel": lambda: dict(
        dim=2,
        T=10,
        schedule="linear",
        hidden=8,
        layers=2,
        emb_dim=4,
        beta_start=1e-4,
        beta_end=0.02,
    ),
    **{
        f"diffusion.DiffusionModel.{m}": (
            lambda: diffusion.DiffusionModel(T=10, hidden=8, layers=2),
            kw,
        )
        for m, kw in {
            "standardize": lambda: dict(x=X8F),
            "unstandardize": lambda: dict(z=X8F),
            "eps": lambda: dict(z=X8F, t=torch.arange(8)),
            "score": lambda: dict(z=X8F, t=torch.arange(1, 9)),
            "loss_simple": lambda: dict(x=X8F),
            "nll_bound": lambda: dict(x=X8F, variance="beta_tilde"),
            "sample": lambda: dict(
                n=4, method="ddim", steps=3, variance="beta_tilde", eta=0.0, seed=0
            ),
        }.items()
    },
    "diffusion.gaussian_kl": lambda: dict(mean1=X8, var1=_t([0.5]), mean2=Y8, var2=_t([2.0])),
    "diffusion.ddpm_sample": lambda: dict(
        eps_fn=diffusion.gaussian_eps(V2, 1.0, _schedule()), schedule=_schedule(), x_T=X8
    ),
    "diffusion.ddim_sample": lambda: dict(
        eps_fn=diffusion.gaussian_eps(V2, 1.0, _schedule()),
        schedule=_schedule(),
        x_T=X8,
        steps=3,
        eta=0.5,
    ),
    "diffusion.annealed_langevin": lambda: dict(
        eps_fn=diffusion.gaussian_eps(V2, 1.0, _schedule()),
        schedule=_schedule(),
        x=X8,
        levels=3,
        steps_per_level=2,
        step_scale=0.5,
    ),
    "diffusion.gaussian_eps": lambda: dict(mean=V2, std=1.0, schedule=_schedule()),
    "diffusion.sliced_wasserstein": lambda: dict(x=X8, y=Y8, projections=10, p=2.0, seed=0),
    # divergences
    "divergences.kl_discrete": lambda: dict(p=P3, q=Q3, dim=-1, base=2),
    "divergences.js_discrete": lambda: dict(p=P3, q=Q3, dim=-1, base=2),
    "divergences.kl_gaussian": lambda: dict(mu1=0.0, sigma1=1.0, mu2=1.0, sigma2=2.0),
    "divergences.kl_mvn": lambda: dict(mu1=V2, cov1=SPD, mu2=-V2, cov2=torch.eye(2, dtype=F64)),
    "divergences.wasserstein_1d": lambda: dict(x=_randn(8), y=_randn(6, seed=1), p=1.0),
    "divergences.wasserstein_gaussian": lambda: dict(
        mu1=V2, cov1=SPD, mu2=-V2, cov2=torch.eye(2, dtype=F64)
    ),
    "divergences.sinkhorn": lambda: dict(x=X8, y=Y8, epsilon=0.5, p=2.0, max_iter=200, tol=1e-6),
    "divergences.sinkhorn_plan": lambda: dict(
        x=X8, y=Y8, epsilon=0.5, p=2.0, max_iter=200, tol=1e-6
    ),
    "divergences.mmd2": lambda: dict(x=X8, y=Y8, bandwidth=1.0),
    "divergences.mahalanobis": lambda: dict(x=X8, y=Y8, cov=SPD),
    "divergences.total_variation": lambda: dict(p=P3, q=Q3, dim=-1),
    "divergences.hellinger": lambda: dict(p=P3, q=Q3, dim=-1),
    # flows
    "flows.AffineCoupling": lambda: dict(mask=[1, 0], hidden=8, depth=2, bound=3.0),
    "flows.AffineCoupling.forward": (
        lambda: flows.AffineCoupling([1, 0], hidden=8).double(),
        lambda: dict(x=X8),
    ),
    "flows.AffineCoupling.scale_shift": (
        lambda: flows.AffineCoupling([1, 0], hidden=8).double(),
        lambda: dict(x_a=X8[:, :1]),
    ),
    "flows.AffineCoupling.label": (lambda: flows.AffineCoupling([1, 0], hidden=8), lambda: dict()),
    "flows.ActNorm": lambda: dict(dim=2),
    "flows.ActNorm.forward": (lambda: flows.ActNorm(2).double(), lambda: dict(x=X8)),
    "flows.ActNorm.initialize": (lambda: flows.ActNorm(2).double(), lambda: dict(x=X8)),
    "flows.ActNorm.label": (lambda: flows.ActNorm(2), lambda: dict()),
    "flows.LULinear": lambda: dict(dim=2, seed=0),
    "flows.LULinear.forward": (lambda: flows.LULinear(2).double(), lambda: dict(x=X8)),
    "flows.LULinear.factors": (lambda: flows.LULinear(2), lambda: dict()),
    "flows.LULinear.weight": (lambda: flows.LULinear(2), lambda: dict()),
    "flows.LULinear.label": (lambda: flows.LULinear(2), lambda: dict()),
    "flows.Permutation": lambda: dict(perm=[1, 0]),
    "flows.Permutation.forward": (lambda: flows.Permutation([1, 0]), lambda: dict(x=X8)),
    "flows.Permutation.label": (lambda: flows.Permutation([1, 0]), lambda: dict()),
    "flows.Flow": lambda: dict(dim=2, layers=2, hidden=8, depth=1, bound=3.0, kind="glow", seed=0),
    **{
        f"flows.Flow.{m}": (lambda: flows.Flow(layers=2, hidden=8).double(), kw)
        for m, kw in {
            "forward": lambda: dict(x=X8),
            "base_log_prob": lambda: dict(z=X8),
            "log_prob": lambda: dict(x=X8),
            "sample": lambda: dict(n=4),
            "labels": lambda: dict(),
            "stages": lambda: dict(x=X8),
            "inverse_stages": lambda: dict(z=X8),
        }.items()
    },
    "flows.nll": lambda: dict(model=flows.Flow(layers=2, hidden=8).double(), x=X8),
    "flows.density_on_grid": lambda: dict(
        model=flows.Flow(layers=2, hidden=8), lo=(-2.0, -2.0), hi=(2.0, 2.0), n=8
    ),
    "flows.training_data": lambda: dict(name="moons", n=16, seed=0),
    "flows.pretrained": lambda: dict(name="moons"),
    # functional
    "functional.function_norm": lambda: dict(
        values=_randn(5), grid=torch.linspace(0, 1, 5, dtype=F64), p=2.0
    ),
    "functional.ramp": lambda: dict(t=torch.linspace(0, 1, 5, dtype=F64), n=3.0),
    "functional.fixed_point_iterates": lambda: dict(T=torch.cos, x0=1.0, steps=5),
    "functional.banach_bound": lambda: dict(q=0.5, n=3, first_step=1.0),
    "functional.rbf_kernel": lambda: dict(x=X8, y=Y8, bandwidth=1.0),
    "functional.laplace_kernel": lambda: dict(x=X8, y=Y8, bandwidth=1.0),
    "functional.polynomial_kernel": lambda: dict(x=X8, y=Y8, degree=2, coef0=1.0),
    "functional.linear_kernel": lambda: dict(x=X8, y=Y8),
    "functional.gram": lambda: dict(kernel="rbf", x=X8, y=Y8),
    "functional.min_eigenvalue": lambda: dict(K=SPD),
    "functional.check_psd": lambda: dict(K=SPD, name="K", rtol=1e-9),
    "functional.KernelRidge": lambda: dict(kernel="rbf", lam=0.1),
    "functional.KernelRidge.fit": (
        lambda: functional.KernelRidge("rbf", lam=0.1),
        lambda: dict(x=_randn(6, 1), y=_randn(6)),
    ),
    "functional.KernelRidge.predict": (_kernel_ridge, lambda: dict(t=_randn(4, 1))),
    "functional.KernelRidge.rkhs_norm": (_kernel_ridge, lambda: dict()),
    "functional.gp_prior_samples": lambda: dict(
        grid=torch.linspace(0, 1, 6, dtype=F64), kernel="rbf", n_samples=2, seed=0, jitter=1e-8
    ),
    "functional.kantorovich_dual": lambda: dict(
        x=_randn(4, 1), y=_randn(3, 1, seed=1), a=_t([0.25] * 4), b=_t([0.5, 0.25, 0.25])
    ),
    "functional.lipschitz_extension": lambda: dict(
        points=_randn(4, 1), values=_randn(4), t=_randn(3, 1)
    ),
    "functional.lipschitz_constant": lambda: dict(points=_randn(4, 1), values=_randn(4)),
    "functional.mmd2": lambda: dict(x=X8, y=Y8, kernel="rbf"),
    "functional.mmd_witness": lambda: dict(x=X8, y=Y8, t=Z4, kernel="rbf"),
    # gan
    "gan.discriminator_loss": lambda: dict(real=V2, fake=-V2, loss="nonsaturating"),
    "gan.generator_loss": lambda: dict(fake=V2, loss="nonsaturating"),
    "gan.gradient_penalty": lambda: dict(critic=_mlp_disc(), real=X8, fake=Y8),
    "gan.r1_penalty": lambda: dict(discriminator=_mlp_disc(), real=X8),
    "gan.optimal_discriminator_logit": lambda: dict(
        log_p_data=_t([-1.0, -2.0]), log_p_g=_t([-1.5, -0.5])
    ),
    "gan.virtual_criterion": lambda: dict(log_p_data=torch.log(P3), log_p_g=torch.log(Q3), dx=1.0),
    "gan.generator_logit_gradient": lambda: dict(d=_t([0.2, 0.7]), loss="nonsaturating"),
    "gan.fgan_terms": lambda: dict(v=V2, loss="kl"),
    "gan.lipschitz_estimate": lambda: dict(
        model=gan.GAN(2, latent_dim=2, hidden=(8,)), x=X8, labels=None
    ),
    "gan.summarise_stabilisers": lambda: dict(
        rows=[{"variant": "base", "dataset": "ring", "modes": 8, "quality": 0.9}]
    ),
    "gan.stabiliser_samples": lambda: dict(
        models={("base", "ring"): gan.GAN(2, latent_dim=2, hidden=(8,))}, n=5, seed=0
    ),
    "gan.train_discriminator": lambda: dict(
        sample_real=lambda n: torch.linspace(-1, 1, n).reshape(n, 1),
        sample_fake=lambda n: torch.linspace(0, 2, n).reshape(n, 1),
        data_dim=1,
        steps=2,
        batch_size=8,
        hidden=(4,),
        lr=2e-3,
        gp=10.0,
        clip=0.01,
        seed=0,
    ),
    "gan.GAN": lambda: dict(
        data_dim=2,
        latent_dim=2,
        hidden=(8,),
        n_classes=0,
        output="identity",
        n_snapshots=0,
        snapshot_size=0,
    ),
    **{
        f"gan.GAN.{m}": (lambda: gan.GAN(2, latent_dim=2, hidden=(8,)), kw)
        for m, kw in {
            "onehot": lambda: dict(labels=None, n=4),
            "generate": lambda: dict(z=Z4.float()),
            "sample": lambda: dict(n=4),
            "discriminate": lambda: dict(x=X8F),
        }.items()
    },
    # inference
    "inference.mle_bernoulli": lambda: dict(x=_t([0.0, 1.0, 1.0])),
    "inference.mle_poisson": lambda: dict(x=_t([0.0, 2.0, 3.0])),
    "inference.mle_gaussian": lambda: dict(x=_randn(6)),
    "inference.fisher_information": lambda: dict(family="bernoulli", theta=0.3),
    "inference.map_bernoulli": lambda: dict(x=_t([0.0, 1.0, 1.0]), a=2.0, b=2.0),
    "inference.simulate_mle": lambda: dict(family="poisson", theta=2.0, n=5, reps=3, seed=0),
    "inference.gmm_log_likelihood": lambda: dict(x=X8, params=_gmm()),
    "inference.gmm_responsibilities": lambda: dict(x=X8, params=_gmm()),
    "inference.gmm_m_step": lambda: dict(x=X8, resp=torch.full((8, 2), 0.5, dtype=F64), reg=1e-6),
    "inference.gmm_em": lambda: dict(x=X8, k=2, init="random", steps=3, seed=0, reg=1e-6),
    "inference.metropolis_hastings": lambda: dict(
        log_prob=lambda x: -0.5 * (x**2).sum(-1), x0=Z4, steps=5, scale=1.0, seed=0
    ),
    "inference.gibbs_gaussian": lambda: dict(mean=V2, cov=SPD, x0=Z4, steps=5, seed=0),
    "inference.mala": lambda: dict(
        log_prob=lambda x: -0.5 * (x**2).sum(-1), x0=Z4, steps=5, step_size=0.1, seed=0
    ),
    "inference.autocorrelation": lambda: dict(x=_randn(20), max_lag=5),
    "inference.effective_sample_size": lambda: dict(x=_randn(20)),
    "inference.check_transition_matrix": lambda: dict(p=ROW),
    "inference.stationary_distribution": lambda: dict(p=ROW),
    "inference.spectral_gap": lambda: dict(p=ROW),
    "inference.evolve": lambda: dict(p=ROW, p0=_t([1.0, 0.0]), steps=3),
    "inference.is_reversible": lambda: dict(p=ROW, atol=1e-12),
    # information
    "information.entropy": lambda: dict(p=P3, dim=-1, base=2),
    "information.cross_entropy": lambda: dict(p=P3, q=Q3, dim=-1, base=2),
    "information.mutual_information": lambda: dict(joint=_t([[0.1, 0.2], [0.3, 0.4]]), base=2),
    "information.gaussian_entropy": lambda: dict(sigma=1.5, base=2),
    "information.binary_entropy": lambda: dict(p=0.3, base=2),
    "information.bsc_capacity": lambda: dict(eps=0.1, base=2),
    "information.gaussian_mutual_information": lambda: dict(rho=0.5, base=2),
    # linalg
    "linalg.circle_image": lambda: dict(A=SPD, n=9),
    "linalg.eigen_2x2": lambda: dict(A=SPD),
    "linalg.leading_minors": lambda: dict(A=SPD),
    "linalg.principal_minors": lambda: dict(A=SPD),
    "linalg.is_positive_definite": lambda: dict(A=SPD, tol=1e-12),
    "linalg.is_positive_semidefinite": lambda: dict(A=SPD, tol=1e-12),
    "linalg.condition_number": lambda: dict(A=SPD),
    "linalg.pca": lambda: dict(X=X8, k=1),
    "linalg.jacobian": lambda: dict(f=torch.sin, x=V2, layout="numerator"),
    "linalg.logdet_spd": lambda: dict(A=SPD),
    "linalg.gaussian_log_likelihood": lambda: dict(x=X8, mu=V2, cov=SPD),
    "linalg.gaussian_log_likelihood_grad": lambda: dict(x=X8, mu=V2, cov=SPD),
    "linalg.hutchinson_trace": lambda: dict(matvec=lambda v: v @ SPD, dim=2, n_samples=4),
    # manifolds
    "manifolds.pca_spectrum": lambda: dict(x=X8),
    "manifolds.mle_intrinsic_dimension": lambda: dict(x=_randn(12, 2), k=3),
    "manifolds.embed": lambda: dict(x=_randn(12, 3), method="isomap", n_neighbors=4, seed=0),
    "manifolds.unrolling_score": lambda: dict(
        embedding=_randn(6, 2).numpy(), t=np.linspace(0, 1, 6)
    ),
    "manifolds.lerp": lambda: dict(z0=V2, z1=-V2 + 1, t=0.3),
    "manifolds.slerp": lambda: dict(z0=V2, z1=_t([1.0, 2.0]), t=0.3),
    "manifolds.gaussian_norm_quantiles": lambda: dict(d=3, probs=_t([0.1, 0.5, 0.9])),
    "manifolds.gaussian_norm_mean": lambda: dict(d=3),
    "manifolds.decoder_jacobian": lambda: dict(decoder=_decoder, z=V2),
    "manifolds.pullback_metric": lambda: dict(decoder=_decoder, z=V2),
    "manifolds.curve_length": lambda: dict(decoder=_decoder, path=_randn(5, 2)),
    "manifolds.magnification": lambda: dict(batch_decoder=_decoder, points=Z4),
    # models
    "models.batches": lambda: dict(
        data=X8, batch_size=4, generator=torch.Generator().manual_seed(0)
    ),
    "models.checkpoint_path": lambda: dict(name="flow_moons"),
    # optimization
    "optimization.rosenbrock": lambda: dict(a=1.0, b=100.0),
    "optimization.beale": lambda: dict(),
    "optimization.quadratic": lambda: dict(kappa=10.0, L=1.0, angle=0.5),
    "optimization.UpdateRule.step": (
        lambda: optimization.GradientDescent(0.1),
        lambda: dict(x=V2, g=V2),
    ),
    "optimization.UpdateRule.reset": (lambda: optimization.GradientDescent(0.1), lambda: dict()),
    "optimization.GradientDescent": lambda: dict(lr=0.1),
    "optimization.GradientDescent.step": (
        lambda: optimization.GradientDescent(0.1),
        lambda: dict(x=V2, g=V2),
    ),
    "optimization.GradientDescent.reset": (
        lambda: optimization.GradientDescent(0.1),
        lambda: dict(),
    ),
    "optimization.Momentum": lambda: dict(lr=0.1, momentum=0.9),
    "optimization.Momentum.step": (lambda: optimization.Momentum(0.1), lambda: dict(x=V2, g=V2)),
    "optimization.Momentum.reset": (lambda: optimization.Momentum(0.1), lambda: dict()),
    "optimization.RMSprop": lambda: dict(lr=0.01, alpha=0.99, eps=1e-8),
    "optimization.RMSprop.step": (lambda: optimization.RMSprop(), lambda: dict(x=V2, g=V2)),
    "optimization.RMSprop.reset": (lambda: optimization.RMSprop(), lambda: dict()),
    "optimization.Adam": lambda: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
    "optimization.Adam.step": (lambda: optimization.Adam(), lambda: dict(x=V2, g=V2)),
    "optimization.Adam.reset": (lambda: optimization.Adam(), lambda: dict()),
    "optimization.Adagrad": lambda: dict(lr=0.01, eps=1e-10, lr_decay=0.0),
    "optimization.Adagrad.step": (lambda: optimization.Adagrad(), lambda: dict(x=V2, g=V2)),
    "optimization.Adagrad.reset": (lambda: optimization.Adagrad(), lambda: dict()),
    "optimization.optimize": lambda: dict(
        rule=optimization.GradientDescent(0.01), grad=optimization.beale(), x0=(1.0, 1.0), steps=5
    ),
    "optimization.pl_rate": lambda: dict(m=0.5, L=2.0, lr=0.1),
    "optimization.quadratic_rate": lambda: dict(m=0.5, L=2.0, lr=0.1),
    "optimization.step_sizes": lambda: dict(kind="constant", steps=5, lr0=0.1, t0=10.0),
    "optimization.least_squares_problem": lambda: dict(n=16, noise=0.5, seed=0),
    "optimization.minibatch_gradient_variance": lambda: dict(X=X8, y=_randn(8), w=V2, batch_size=2),
    "optimization.sgd_least_squares": lambda: dict(
        X=X8, y=_randn(8), batch_size=2, lr=torch.full((5,), 0.01, dtype=F64), w0=V2
    ),
    "optimization.polyak_average": lambda: dict(trajectory=_randn(5, 2)),
    "optimization.minmax_trajectory": lambda: dict(
        method="simultaneous", lr=0.1, steps=5, start=(1.0, 0.0)
    ),
    "optimization.gradient_penalty": lambda: dict(critic=_mlp_disc(), real=X8, fake=Y8),
    "optimization.mlp_forward_backward": lambda: dict(
        x=_randn(4, 2), y=_randn(4, 1), W1=_randn(3, 2), b1=_randn(3), W2=_randn(1, 3), b2=_randn(1)
    ),
    "optimization.clip_grad_norm": lambda: dict(grads=[V2, _randn(3)], max_norm=1.0),
    "optimization.max_entropy": lambda: dict(values=_t([1.0, 2.0, 3.0]), mean=2.5),
    "optimization.taylor_polynomial": lambda: dict(
        derivatives=_t([1.0, 1.0, 0.5]), a=0.0, x=_t([0.1, 0.2])
    ),
    "optimization.taylor_remainder_integral": lambda: dict(
        next_derivative=torch.exp, a=0.0, x=0.5, k=2, nodes=16
    ),
    "optimization.random_hessian_minimum_fraction": lambda: dict(d=2, samples=100, seed=0),
    # rl
    "rl.TabularMDP": lambda: dict(
        transitions=_t([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.0, 1.0]]]),
        rewards=_t([[0.0, 1.0], [1.0, 0.0]]),
        gamma=0.9,
        start=_t([1.0, 0.0]),
    ),
    "rl.TabularMDP.to": (_mdp, lambda: dict(device="cpu")),
    "rl.TabularMDP.with_gamma": (_mdp, lambda: dict(gamma=0.5)),
    "rl.grid_world": lambda: dict(
        height=2, width=3, gamma=0.9, slip=0.1, goal_reward=1.0, cliff_reward=-1.0
    ),
    "rl.policy_matrices": lambda: dict(mdp=_mdp(), policy=_policy()),
    "rl.evaluate_policy": lambda: dict(mdp=_mdp(), policy=_policy()),
    "rl.objective": lambda: dict(mdp=_mdp(), policy=_policy()),
    "rl.action_values": lambda: dict(mdp=_mdp(), values=_randn(6)),
    "rl.bellman_optimality": lambda: dict(mdp=_mdp(), values=_randn(6)),
    "rl.greedy_policy": lambda: dict(mdp=_mdp(), values=_randn(6)),
    "rl.value_iteration": lambda: dict(mdp=_mdp(), tol=1e-6, max_iter=500),
    "rl.rollouts": lambda: dict(mdp=_mdp(), policy=_policy(), n_episodes=3, horizon=4),
    "rl.reinforce_gradient": lambda: dict(
        mdp=_mdp(), logits=torch.zeros(6, 4, dtype=F64), n_episodes=3, horizon=4, seed=0, chunk=2
    ),
    "rl.exact_policy_gradient": lambda: dict(mdp=_mdp(), logits=torch.zeros(6, 4, dtype=F64)),
    "rl.tilted_optimum": lambda: dict(ref=P3, rewards=_t([1.0, 0.0, -1.0]), beta=0.5),
    "rl.optimal_kl_value": lambda: dict(ref=P3, rewards=_t([1.0, 0.0, -1.0]), beta=0.5),
    "rl.kl_objective": lambda: dict(probs=Q3, ref=P3, rewards=_t([1.0, 0.0, -1.0]), beta=0.5),
    "rl.all_sequences": lambda: dict(length=2, vocab=3),
    "rl.finetune": lambda: dict(
        model=zoo.DiscreteAutoregressive(2, 3, 8),
        reward=lambda x: (x == 0).double().mean(-1),
        beta=0.1,
        steps=2,
        batch_size=4,
        lr=0.01,
        seed=0,
        progress=False,
        track_every=1,
    ),
    # sampling
    "sampling.effective_sample_size": lambda: dict(log_weights=_randn(8)),
    "sampling.monte_carlo": lambda: dict(
        f=lambda x: x**2, dist=torch.distributions.Normal(0.0, 1.0), n=16
    ),
    "sampling.importance_sampling": lambda: dict(
        f=lambda x: x**2,
        log_p=torch.distributions.Normal(0.0, 1.0),
        proposal=torch.distributions.Normal(0.0, 2.0),
        n=16,
    ),
    "sampling.score_function_gradient": lambda: dict(
        f=lambda x: x**2,
        make_dist=torch.distributions.Normal,
        params=(_t(0.0), _t(1.0)),
        n=16,
        baseline=0.5,
    ),
    "sampling.reparameterization_gradient": lambda: dict(
        f=lambda x: x**2, make_dist=torch.distributions.Normal, params=(_t(0.0), _t(1.0)), n=16
    ),
    "sampling.mgf": lambda: dict(family="normal", t=_t([0.1, 0.2]), loc=0.0, scale=1.0),
    "sampling.moments_from_mgf": lambda: dict(family="normal", order=2, loc=0.0, scale=1.0),
    "sampling.pushforward_density": lambda: dict(
        f=torch.exp,
        log_prob=torch.distributions.Normal(0.0, 1.0).log_prob,
        y=_t([0.5, 1.0, 2.0]),
        support=(-5.0, 5.0),
        grid=101,
        iters=10,
    ),
    "sampling.condition_gaussian": lambda: dict(mean=V2, cov=SPD, value=_t([0.3]), k=1),
    # vae
    "vae.kl_to_standard_normal": lambda: dict(mu=X8, sigma=Y8.abs() + 0.1),
    "vae.gaussian_log_likelihood": lambda: dict(x=X8, mean=Y8, log_sigma=_t([0.1, -0.2])),
    "vae.bernoulli_log_likelihood": lambda: dict(x=_t([[0.0, 1.0]]), logits=_t([[0.3, -0.2]])),
    "vae.LinearGaussian": lambda: dict(W=_t([[1.0], [0.5]]), b=V2, s=0.5),
    **{
        f"vae.LinearGaussian.{m}": (lambda: vae.LinearGaussian(_t([[1.0], [0.5]]), V2, 0.5), kw)
        for m, kw in {
            "marginal_cov": lambda: dict(),
            "log_marginal": lambda: dict(x=X8),
            "posterior": lambda: dict(x=X8),
            "elbo": lambda: dict(x=X8, m=_randn(8, 1), C=_t([[0.5]])),
            "sample": lambda: dict(n=4),
        }.items()
    },
    "vae.VAE": lambda: dict(
        data_dim=2,
        latent_dim=2,
        hidden=(8,),
        likelihood="gaussian",
        beta=1.0,
        obs_std=0.1,
        n_classes=0,
    ),
    **{
        f"vae.VAE.{m}": (_small_vae, kw)
        for m, kw in {
            "encode": lambda: dict(x=X8),
            "decode": lambda: dict(z=Z4),
            "elbo": lambda: dict(x=X8, samples=2),
            "rate_distortion": lambda: dict(x=X8, samples=2),
            "iwae": lambda: dict(x=X8, k=3),
            "loss": lambda: dict(x=X8),
            "sample": lambda: dict(n=4),
        }.items()
    },
    "vae.binarized_digits": lambda: dict(),
    "vae.normal_gamma_posterior": lambda: dict(x=_randn(6), mu0=0.0, lam0=1.0, a0=1.0, b0=1.0),
    "vae.cavi_normal_gamma": lambda: dict(
        x=_randn(6), mu0=0.0, lam0=1.0, a0=1.0, b0=1.0, iters=5, tau_init=1.0
    ),
    "vae.elbo_of_q": lambda: dict(
        model=_small_vae(), x=X8[:2], mu=Z4[:2], sigma=Z4[:2].abs() + 0.1, samples=4
    ),
    "vae.refine_q": lambda: dict(model=_small_vae(), x=X8[:2], steps=2, lr=0.05, samples=2, seed=0),
    # zoo
    "zoo.discretize": lambda: dict(points=X8, bins=4, low=-3.0, high=3.0),
    "zoo.DiscreteAutoregressive": lambda: dict(dims=2, categories=4, hidden=8),
    **{
        f"zoo.DiscreteAutoregressive.{m}": (lambda: zoo.DiscreteAutoregressive(2, 4, 8), kw)
        for m, kw in {
            "logits_from_onehot": lambda: dict(onehot=torch.eye(8)[:2]),
            "logits": lambda: dict(x=torch.tensor([[0, 1], [2, 3]])),
            "log_prob": lambda: dict(x=torch.tensor([[0, 1], [2, 3]])),
            "sample": lambda: dict(n=4),
        }.items()
    },
    "zoo.ring_energy": lambda: dict(x=X8, radius=2.0, width=0.25),
    "zoo.ring_score": lambda: dict(x=X8, radius=2.0, width=0.25),
    "zoo.ring_log_partition": lambda: dict(radius=2.0, width=0.25),
    "zoo.grid_log_partition": lambda: dict(energy=lambda x: (x**2).sum(-1), limit=4.0, n=21),
    "zoo.langevin": lambda: dict(score=lambda x: -x, x0=Z4, step=0.1, n_steps=5),
    "zoo.ula_gaussian_variance": lambda: dict(sigma=1.0, step=0.1),
    "zoo.mixture_score": lambda: dict(
        x=X8, centers=data.ring_centers(4, dtype=F64), std=0.1, sigma=0.2
    ),
    "zoo.ScoreNet": lambda: dict(dim=2, hidden=8, sigma_min=0.05, sigma_max=2.0, levels=3),
    "zoo.ScoreNet.forward": (
        lambda: zoo.ScoreNet(hidden=8).double(),
        lambda: dict(x=X8, sigma=torch.full((8,), 0.5, dtype=F64)),
    ),
    "zoo.ScoreNet.sample": (
        lambda: zoo.ScoreNet(hidden=8, levels=3),
        lambda: dict(n=4, steps_per_level=2, step_scale=0.1),
    ),
    "zoo.dsm_loss": lambda: dict(
        model=zoo.ScoreNet(hidden=8), x=X8F, sigma=torch.full((8, 1), 0.5), noise=Y8.float()
    ),
    "zoo.annealed_langevin": lambda: dict(
        score=lambda x, s: -x / (1 + s**2),
        n=4,
        sigmas=_t([1.0, 0.5]),
        dim=2,
        steps_per_level=2,
        step_scale=0.1,
    ),
    "zoo.VelocityNet": lambda: dict(dim=2, hidden=8),
    "zoo.VelocityNet.forward": (
        lambda: zoo.VelocityNet(hidden=8).double(),
        lambda: dict(x=X8, t=0.5),
    ),
    "zoo.VelocityNet.sample": (lambda: zoo.VelocityNet(hidden=8), lambda: dict(n=4, n_steps=3)),
    "zoo.rk4": lambda: dict(f=lambda x, t: -x, x0=Z4, t0=0.0, t1=1.0, n_steps=4),
    "zoo.ode_log_prob": lambda: dict(v=lambda x, t: -x, x=Z4, n_steps=4),
    "zoo.markov_sequences": lambda: dict(
        transition=torch.full((3, 3, 3), 1 / 3, dtype=F64), n=4, length=5, seed=0
    ),
    "zoo.markov_entropy_rate": lambda: dict(transition=torch.full((3, 3, 3), 1 / 3, dtype=F64)),
    "zoo.TinyTransformer": lambda: dict(vocab=3, context=8, width=8),
    "zoo.TinyTransformer.forward": (
        lambda: zoo.TinyTransformer(3, 8, 8),
        lambda: dict(x=torch.tensor([[0, 1, 2, 0]])),
    ),
    "zoo.TinyTransformer.nll": (
        lambda: zoo.TinyTransformer(3, 8, 8),
        lambda: dict(x=torch.tensor([[0, 1, 2, 0]]), skip=2),
    ),
    "zoo.TinyTransformer.sample": (
        lambda: zoo.TinyTransformer(3, 8, 8),
        lambda: dict(n=2, length=4, temperature=1.0),
    ),
    "zoo.soft_threshold": lambda: dict(z=X8, lam=0.5),
    "zoo.ista": lambda: dict(dictionary=_randn(3, 4), x=_randn(3), lam=0.1, n_iter=20),
}

#: Valid examples of the public callables that the other branches of issue #21 add to the topic
#: modules (computations moved out of the explore modules, the fit preamble's helpers). In a tree
#: without them, their walk is skipped (see ``_resolve``).
EXAMPLES_OF_MOVED = {
    "components.focal_batch": lambda: dict(n_easy=20, n_hard=4),
    "components.positive_loss_share": lambda: dict(logits=V2, target=_t([0.0, 1.0]), gamma=2.0),
    "components.recurrent_setup": lambda: dict(d=4, steps=5, seed=0),
    "diffusion.forward_chain": lambda: dict(x0=X8, schedule=_schedule(), seed=0),
    "diffusion.score_on_grid": lambda: dict(
        model=diffusion.DiffusionModel(T=10, hidden=8, layers=2), t=3, grid=4
    ),
    "divergences.Mixture": lambda: dict(components=[(0.3, -1.0, 0.5), (0.7, 1.0, 1.0)]),
    **{
        f"divergences.Mixture.{m}": (
            lambda: divergences.Mixture([(0.3, -1.0, 0.5), (0.7, 1.0, 1.0)]),
            kw,
        )
        for m, kw in {
            "log_pdf": lambda: dict(x=_randn(5)),
            "cdf": lambda: dict(x=_randn(5)),
            "mean": lambda: dict(),
            "variance": lambda: dict(),
        }.items()
    },
    "divergences.divergence_table": lambda: dict(
        p=divergences.Mixture([(1.0, 0.0, 1.0)]), q=divergences.Mixture([(1.0, 1.0, 1.0)])
    ),
    "divergences.disjoint_values": lambda: dict(theta=0.5, cells=50),
    "divergences.ot_assignment_cost": lambda: dict(x=Z4, y=Z4 + 1),
    "divergences.batch_sqdist": lambda: dict(a=_randn(2, 4, 2), b=_randn(2, 3, 2, seed=1)),
    "divergences.mmd2_from_sqdist": lambda: dict(
        dxx=torch.zeros(2, 3, 3, dtype=F64),
        dyy=torch.zeros(2, 3, 3, dtype=F64),
        dxy=torch.ones(2, 3, 3, dtype=F64),
        bandwidth=1.0,
    ),
    "divergences.mmd2_batch": lambda: dict(
        x=_randn(2, 4, 2), y=_randn(2, 3, 2, seed=1), bandwidth=1.0
    ),
    "divergences.mmd2_gaussian_shift": lambda: dict(shift=1.0, bandwidth=1.0, dim=2),
    "flows.sinh_arcsinh": lambda: dict(x=_randn(5), eps=0.2, delta=1.2),
    "flows.monotone_density": lambda: dict(x=_randn(5), eps=0.2, delta=1.2),
    "flows.monotone_mass": lambda: dict(eps=0.2, delta=1.2, lo=-3.0, hi=3.0, n=101),
    "flows.stage_log_dets": lambda: dict(model=flows.Flow(layers=2, hidden=8).double(), x=X8),
    "flows.sample_seeded": lambda: dict(model=flows.Flow(layers=2, hidden=8), n=4, seed=0),
    "functional.cos_fixed_point": lambda: dict(q=0.5),
    "gan.log_normal": lambda: dict(x=_randn(5), mu=0.0, sigma=1.0),
    "gan.criterion_values": lambda: dict(mu=0.5, sigma=1.0),
    "gan.criterion_curve": lambda: dict(mus=_t([0.0, 1.0]), sigma=1.0, stride=4),
    "gan.dstar_experiment": lambda: dict(steps=2, seed=0),
    "gan.critic_experiment": lambda: dict(steps=2, seed=0),
    "gan.penalty_of_linear_critic": lambda: dict(w=V2, b=0.1, real=X8, fake=Y8),
    "gan.centers_for": lambda: dict(name="ring"),
    "gan.snapshot_metrics": lambda: dict(
        model=gan.GAN(2, latent_dim=2, hidden=(8,), n_snapshots=2, snapshot_size=4),
        dataset="ring",
        std=0.02,
    ),
    "gan.gda_paths": lambda: dict(eta=0.2, steps=5, start=(1.0, 1.0)),
    "inference.chain_diagnostics": lambda: dict(samples=_randn(30, 2), burn=5, max_lag=4),
    "inference.mixture_1d_log_prob": lambda: dict(z=Z4, means=_t([-1.0, 1.0]), sd=0.5),
    "information.mixture_log_density": lambda: dict(x=_randn(5), separation=2.0),
    "information.kl_forward": lambda: dict(mu=0.0, sigma=1.0, separation=2.0),
    "information.kl_reverse": lambda: dict(mu=0.0, sigma=1.0, separation=2.0),
    "information.fit_gaussian_kl": lambda: dict(separation=2.0, direction="forward", start="right"),
    "information.gaussian_mi_quantised": lambda: dict(rho=0.5, bins=8, half_width=4.0, nodes=8),
    "information.bsc_mutual_information": lambda: dict(input_p=0.5, eps=0.1, base=2),
    "information.js_gaussian_shift": lambda: dict(delta=_t([0.5, 1.0])),
    "linalg.pca_cloud": lambda: dict(angle_deg=30.0, ratio=0.5, n=10, seed=3),
    "manifolds.gaussian_norm_pdf": lambda: dict(d=3, r=_t([0.5, 1.0, 2.0])),
    "manifolds.norm_along_paths": lambda: dict(d=3, seed=0, n_t=5),
    "models.gaussian_log_prob": lambda: dict(x=X8, mean=Y8, log_sigma=_t([0.1, -0.2])),
    "optimization.gd_quadratic_run": lambda: dict(log10_kappa=1.0, ratio=0.5, steps=5),
    "optimization.sgd_least_squares_run": lambda: dict(
        batch_size=4, schedule="constant", steps=5, seed=1
    ),
    "optimization.make_rule": lambda: dict(name="momentum", lr=0.1, beta=0.9),
    "optimization.adaptive_rule": lambda: dict(name="adam", lr=0.1, decay=0.99, eps=1e-8),
    "optimization.batched_paths": lambda: dict(
        objective="beale", rule=optimization.GradientDescent(0.01), n=1, steps=5
    ),
    "optimization.bilinear_paths": lambda: dict(lr=0.1, steps=5),
    "rl.greedy_grid_route": lambda: dict(actions=[0] * 24, height=4, width=6, max_moves=10),
    "rl.group_means": lambda: dict(per_episode=_randn(12), n=3),
    "sampling.grid_posterior": lambda: dict(a=2.0, b=2.0, heads=3, tails=1),
    "sampling.monte_carlo_error": lambda: dict(repeats=3, seed=0),
    "sampling.is_second_moment": lambda: dict(mu=4.0, sigma=1.0, c=4.0),
    "sampling.rare_event_importance_run": lambda: dict(
        mu=4.0, sigma=1.0, threshold=4.0, n=20, seed=0
    ),
    "sampling.gradient_estimator_variances": lambda: dict(
        mu=1.0, sigma=1.0, ns=(10, 20), repeats=3, seed=0
    ),
    "sampling.exponential_running_sums": lambda: dict(repeats=3, max_n=5, seed=0),
    "sampling.generated_sigma_algebra": lambda: dict(omega=[1, 2, 3], sets=[[1]]),
    "sampling.is_sigma_algebra": lambda: dict(omega=[1, 2], family=[[], [1], [2], [1, 2]]),
    "sampling.is_measurable": lambda: dict(
        func={1: 0.0, 2: 1.0}, omega=[1, 2], family=[[], [1], [2], [1, 2]]
    ),
    "sampling.simple_function_integral": lambda: dict(n=3),
    "sampling.pushforward_map": lambda: dict(name="square", t=0.5),
    "sampling.count_preimages": lambda: dict(f=torch.sin, ys=_t([0.1, 0.5]), support=(-3.0, 3.0)),
    "sampling.relu_cdf": lambda: dict(y=np.linspace(-1, 1, 5), mu=0.0),
    "sampling.circle_kl": lambda: dict(h=0.5, angles=100),
    "sampling.riemann_lower_heights": lambda: dict(n=3),
    "vae.rate_distortion_table": lambda: dict(models={1.0: _small_vae()}, x=X8, samples=2, seed=0),
    "vae.iwae_curve": lambda: dict(model=_small_vae(), x=X8, ks=[1, 2], repeats=2, seed=0),
    "vae.normal_gamma_pdf": lambda: dict(
        mu=_randn(3), tau=_t([0.5, 1.0, 2.0]), post=vae.normal_gamma_posterior(_randn(6))
    ),
    "vae.mean_field_pdf": lambda: dict(
        mu=_randn(3), tau=_t([0.5, 1.0, 2.0]), fit=vae.cavi_normal_gamma(_randn(6), iters=3)
    ),
    "zoo.ring_density_grid": lambda: dict(limit=3.0, n=9, radius=2.0, width=0.25),
    "zoo.ring_radial_moments": lambda: dict(radius=2.0, width=0.25),
    "zoo.langevin_ring": lambda: dict(step=0.01, n=4, n_steps=3, seed=0),
    "zoo.flow_paths": lambda: dict(model=zoo.VelocityNet(hidden=8), n=4, n_steps=3, seed=0),
    "zoo.next_symbol_probs": lambda: dict(
        model=zoo.TinyTransformer(3, 8, 8), vocab=3, temperature=1.0
    ),
    "zoo.sample_by_uniforms": lambda: dict(
        probs=torch.full((9, 3), 1 / 3, dtype=F64), uniforms=[0.1, 0.5, 0.9], start=(0, 1)
    ),
    # the history section of the zoo and the components' U-Net (merged from h-rbm)
    "components.TinyUNet": lambda: dict(channels=1, base=4, emb_dim=8, groups=2),
    "components.TinyUNet.forward": (
        lambda: components.TinyUNet(1, 4, 8, 2),
        lambda: dict(x=torch.zeros(2, 1, 8, 8), t=torch.tensor([1, 5])),
    ),
    "components.TinyUNet.levels": (
        lambda: components.TinyUNet(1, 4, 8, 2),
        lambda: dict(x=torch.zeros(2, 1, 8, 8), t=torch.tensor([1, 5])),
    ),
    "zoo.RBM": lambda: dict(visible=4, hidden=3, init_std=0.01),
    **{
        f"zoo.RBM.{m}": (lambda: zoo.RBM(4, 3), kw)
        for m, kw in {
            "energy": lambda: dict(v=_bits(2, 4), h=_bits(2, 3)),
            "free_energy": lambda: dict(v=_bits(2, 4)),
            "p_h_given_v": lambda: dict(v=_bits(2, 4)),
            "p_v_given_h": lambda: dict(h=_bits(2, 3)),
            "gibbs_step": lambda: dict(v=_bits(2, 4)),
            "gibbs": lambda: dict(v=_bits(2, 4), steps=3),
            "sample": lambda: dict(n=2, steps=3),
            "log_partition": lambda: dict(),
            "log_prob": lambda: dict(v=_bits(2, 4)),
        }.items()
    },
    "zoo.cd_gradient": lambda: dict(model=zoo.RBM(4, 3), v_data=_bits(2, 4), v_model=_bits(3, 4)),
}
EXAMPLES.update(EXAMPLES_OF_MOVED)

#: Callables walked elsewhere, with where.
COVERED_ELSEWHERE = {
    "diffusion.fit": "the fit contract tests (issue #21 item 1)",
    "flows.fit": "the fit contract tests",
    "gan.fit": "the fit contract tests",
    "gan.fit_stabiliser": "a full-length gan.fit: tests/test_gan.py checks its arguments",
    "gan.save_stabilisers": "writes the shipped checkpoint: tests/test_gan.py",
    "gan.load_stabilisers": "reads the shipped checkpoint: tests/test_gan.py",
    "gan.stabiliser_results": "no arguments; reads the shipped rows: tests/test_gan.py",
    "vae.fit": "the fit contract tests",
    "zoo.fit_autoregressive": "the fit contract tests (empty data included)",
    "zoo.fit_score": "the fit contract tests",
    "zoo.fit_ode_flow": "the fit contract tests",
    "zoo.fit_transformer": "the fit contract tests",
    "zoo.fit_rbm": "the fit contract tests",
    "models.prepare_data": "the fit contract tests (float64 beyond float32's range included)",
    "models.train": "the fit contract tests (the shared training loop)",
    "models.check_fit_args": "the fit contract tests (the shared fit preamble)",
    "models.load_pretrained": "tests/test_data_models.py (checkpoint loading and hashes)",
    "models.file_sha256": "tests/test_data_models.py (checkpoint hashes)",
    "models.prepare_tokens": "the fit contract tests (the fit preamble's data check)",
    "models.batch_indices": "the fit contract tests (the fit preamble's batches)",
    "models.merge_hyper": "the fit contract tests (the fit preamble's hyper-parameters)",
    "models.check_labels": "the fit contract tests (the fit preamble's labels)",
    "models.check_lr": "the fit contract tests (the fit preamble's learning rate)",
    "models.seeded": "the fit contract tests (a context manager of the fit preamble)",
    "models.fit_run": "the fit contract tests (the fit preamble itself)",
    "models.GenerativeModel": "abstract base class: its subclasses are walked",
    "models.GenerativeModel.sample": "abstract method: the subclasses' sample methods are walked",
    "models.GenerativeModel.save": "writes files: tests/test_data_models.py",
    "flows.FlowLayer": "abstract base class: its subclasses are walked",
    "flows.FlowLayer.forward": "abstract method: the subclasses' forward methods are walked",
    "flows.FlowLayer.label": "abstract method: the subclasses' label methods are walked",
    "optimization.UpdateRule": "abstract base class: its subclasses are walked",
}

#: Result records (NamedTuples, frozen dataclasses, an exception): plain containers, no promise.
RECORDS = {
    "divergences.SinkhornConvergenceError",
    "functional.KRDual",
    "inference.GMMParams",
    "inference.GMMFit",
    "inference.Chains",
    "information.GaussianFit",
    "models.FitRun",
    "linalg.Identity",
    "optimization.Objective",
    "rl.ValueIteration",
    "rl.Rollouts",
    "rl.PolicyGradient",
    "rl.KLObjective",
    "rl.FinetuneResult",
    "rl.FinetuneResult.tracked_probs",
    "sampling.Estimate",
    "sampling.GradientEstimate",
}

#: (callable, parameter, mutation) whose error comes from the caller's own network, which the
#: companion cannot know the input shape of (it passes the tensor through unchanged).
CALLERS_ERROR = {
    ("gan.r1_penalty", "real", "misshaped"),
    ("gan.gradient_penalty", "real", "misshaped"),
}

#: (callable, mutation) pairs whose inf result the docstring promises ("*": any mutation).
MAY_RETURN_INF: set[tuple[str, str]] = {
    ("zoo.ula_gaussian_variance", "*"),  # inf when step >= 2 sigma^2: the chain diverges
    ("linalg.condition_number", "zeros"),  # a singular matrix has condition number inf
    ("divergences.disjoint_values", "*"),  # KL between disjoint supports is inf
    # κ = 1: GD lands on the minimum in one step, so the measured rate is 0/0 (nan, by design)
    ("optimization.gd_quadratic_run", "zero"),
}


# ----------------------------------------------------------------------------------------------
# The walk


def _public_methods(cls: type) -> list[str]:
    return sorted(
        k for k, v in vars(cls).items() if not k.startswith("_") and inspect.isfunction(v)
    )


def public_callables() -> list[str]:
    """Every public callable of the topic modules, as "module.name" or "module.Class.method"."""
    keys = []
    for mod_name, mod in TOPIC_MODULES.items():
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                keys.append(f"{mod_name}.{name}")
                keys += [f"{mod_name}.{name}.{m}" for m in _public_methods(obj)]
            elif callable(obj):
                keys.append(f"{mod_name}.{name}")
    return keys


def exercise_checks() -> list[str]:
    keys = []
    for info in pkgutil.iter_modules(exercises.__path__):
        mod = importlib.import_module(f"companion.exercises.{info.name}")
        keys += [f"{info.name}.{n}" for n in mod.__all__ if n.startswith("check_")]
    return keys


def _resolve(key: str) -> tuple[Callable, dict]:
    """The callable of ``key`` and a fresh dict of valid keyword arguments for it."""
    parts = key.split(".")
    entry = EXAMPLES[key]
    if isinstance(entry, tuple):
        make_instance, make_kwargs = entry
        return getattr(make_instance(), parts[2]), make_kwargs()
    return getattr(TOPIC_MODULES[parts[0]], parts[1]), entry()


def _fuzzed_arguments(fn: Callable, kwargs: dict) -> dict[str, object]:
    """The example's arguments plus the scalar defaults of the others (those get fuzzed too)."""
    args = dict(kwargs)
    for name, par in inspect.signature(fn).parameters.items():
        if name not in args and par.default is not inspect.Parameter.empty:
            if isinstance(par.default, numbers.Real | str):
                args[name] = par.default
    return args


def test_every_public_callable_is_walked():
    """A new public callable needs a valid example in EXAMPLES (or a reason elsewhere)."""
    known = set(EXAMPLES) | set(COVERED_ELSEWHERE) | RECORDS
    missing = [k for k in public_callables() if k not in known]
    assert not missing, f"add valid examples to tests/test_bad_input.py EXAMPLES for {missing}"


@pytest.mark.parametrize("key", [k for k in EXAMPLES if k.count(".") >= 1])
def test_bad_input_walk(key):
    try:
        fn, kwargs = _resolve(key)
    except AttributeError:
        pytest.skip(f"{key} is not (yet) public in this tree")
    problem = judge(fn, kwargs, "valid example", key)
    assert problem is None or "NaN/inf" in problem and key in {k for k, _ in MAY_RETURN_INF}, (
        f"the valid example of {key} fails: {problem}"
    )
    complaints = []
    for name, value in _fuzzed_arguments(fn, kwargs).items():
        for mutation, bad in mutations(value).items():
            fn, fresh = _resolve(key)
            fresh.update({k: v for k, v in _fuzzed_arguments(fn, fresh).items() if k not in fresh})
            fresh[name] = bad
            problem = judge(fn, fresh, mutation, key)
            if problem and (key, name, mutation) not in CALLERS_ERROR:
                complaints.append(f"{key}({name}=<{problem}>)")
    assert not complaints, "\n".join(complaints)


# ----------------------------------------------------------------------------------------------
# Exercise checks: the reader's function is the argument. A wrong answer must give CheckFailed
# (never "Correct", never an error from inside torch); so must a non-callable.


def _wrong_answers() -> dict[str, object]:
    return {
        "not_callable": 3,
        "returns_nan": lambda *a, **k: math.nan,
        "returns_nan_tensor": lambda *a, **k: torch.full((2,), math.nan, dtype=F64),
        "returns_none": lambda *a, **k: None,
        "returns_text": lambda *a, **k: "forty-two",
        "raises": lambda *a, **k: 1 / 0,
        "returns_zeros": lambda *a, **k: torch.zeros(7, 3, dtype=F64),
    }


def _judge_check(fn: Callable, kwargs: dict, mutation: str) -> str | None:
    out, complaint = _call(fn, kwargs, mutation, accepted=exercises.CheckFailed)
    if complaint is not None or out is _OK:
        return complaint
    return f"{mutation}: a wrong answer was accepted"


@pytest.mark.parametrize("key", exercise_checks())
def test_exercise_check_walk(key, capsys):
    mod_name, name = key.split(".")
    check = getattr(importlib.import_module(f"companion.exercises.{mod_name}"), name)
    params = list(inspect.signature(check).parameters.values())
    reader = params[0].name
    complaints = []
    for mutation, bad in _wrong_answers().items():
        problem = _judge_check(check, {reader: bad}, mutation)
        if problem:
            complaints.append(f"{key}({reader}=<{problem}>)")
    for par in params[1:]:
        if par.default is inspect.Parameter.empty:
            continue
        for mutation, bad in mutations(par.default).items():
            problem = _judge_check(check, {reader: lambda *a, **k: 0.0, par.name: bad}, mutation)
            if problem:
                complaints.append(f"{key}({par.name}=<{problem}>)")
    assert not complaints, "\n".join(complaints)


# ----------------------------------------------------------------------------------------------
# Callables whose bad-input tests live elsewhere: listed so the walk's report names them.


@pytest.mark.parametrize("key", sorted(set(COVERED_ELSEWHERE) & set(public_callables())))
def test_covered_elsewhere(key):
    pytest.skip(f"{key}: {COVERED_ELSEWHERE[key]}")


def test_fit_autoregressive_refuses_empty_data():
    """Issue #21 item 6 (a fit: fixed by the fit preamble of item 1; pinned here)."""
    empty = torch.zeros(0, 2, dtype=torch.long)
    problem = judge(
        lambda: zoo.fit_autoregressive(empty, categories=4, steps=1, progress=False),
        {},
        "empty",
        "zoo.fit_autoregressive",
    )
    assert problem is None, problem
    with pytest.raises((ValueError, TypeError)):
        zoo.fit_autoregressive(empty, categories=4, steps=1, progress=False)
