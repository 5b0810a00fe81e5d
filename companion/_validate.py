"""Argument checks shared by the companion's numerical modules.

Every public function of the topic modules validates its inputs with these helpers before
computing anything, so that a
reader who passes a Python list, an integer tensor, a vector that does not sum to one or a
covariance that is not positive definite gets an error naming the argument, what was expected and
what was received — instead of a silent ``nan`` several lines later.

Conventions
-----------
* ``TypeError`` for the wrong *kind* of object: not a tensor, or a tensor whose dtype is not
  floating point (integers, booleans, complex numbers).
* ``ValueError`` for a tensor of the right kind with the wrong content or shape: NaN, infinite
  values, empty tensors, negative probabilities, sums away from one, non-positive scales, shapes
  that do not match, matrices that are not symmetric positive definite.
* Nothing is repaired silently: probability vectors are never renormalised, covariances are never
  symmetrised or jittered.
* Ranges are arguments of the helpers, not hand-written ``if``s: ``check_real(sigma, "sigma",
  positive=True)`` says "sigma must be > 0; got -1", ``check_real(p, "p", low=0, high=1)``
  "p must lie in [0, 1]; got 1.5"; ``check_int`` takes ``minimum`` and ``maximum``;
  ``check_choice`` names the options.
* Iteration counts (``n_steps``, ``n_iter``, ``steps`` of samplers and solvers) are capped at
  :data:`MAX_ITERATIONS` by :func:`check_iterations`, numbers of layers at :data:`MAX_LAYERS`:
  a huge count is refused at once instead of running for hours.
* A module's ``forward`` (run in every training step) checks kinds and shapes but not values
  (``check_tensor(..., finite=False)``): NaN in gives NaN out there.

``tests/test_bad_input.py`` walks every public callable with such bad inputs.

The checks look at the values (``.detach()``), so they never enter the autograd graph. On a GPU
each data-dependent check synchronises once; that is the price of a clear error.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "PROBABILITY_ATOL",
    "check_tensor",
    "check_finite",
    "as_tensor_param",
    "check_positive",
    "check_values",
    "check_interval",
    "check_probability",
    "check_spd",
    "check_broadcastable",
    "check_same_device",
    "check_real",
    "check_int",
    "check_iterations",
    "check_dim",
    "check_rows",
    "check_array",
    "check_callable",
    "check_choice",
    "check_probability_pair",
    "check_same_shape",
    "log_of_base",
    "MAX_ITERATIONS",
    "MAX_LAYERS",
]

#: Largest allowed deviation of a probability vector's sum from one.
PROBABILITY_ATOL = 1e-6

#: Largest iteration count (``n_iter``, ``n_steps``, ``steps`` of a sampler or solver) that the
#: companion accepts: a larger one would run for hours instead of failing, so it is refused.
MAX_ITERATIONS = 10**7


def _kind(x: object) -> str:
    """A short human description of what was received, for error messages."""
    if isinstance(x, Tensor):
        return f"a tensor of dtype {x.dtype} and shape {tuple(x.shape)}"
    return f"an object of type {type(x).__name__}"


def check_finite(x: Tensor, name: str, *, allow_inf: bool = False) -> Tensor:
    """Raise ``ValueError`` if ``x`` holds NaN (or, unless ``allow_inf``, ±inf)."""
    values = x.detach()
    if torch.isnan(values).any():
        raise ValueError(f"{name} contains NaN values")
    if not allow_inf and torch.isinf(values).any():
        raise ValueError(f"{name} contains infinite values")
    return x


def check_tensor(
    x: object,
    name: str,
    *,
    min_ndim: int = 0,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
    allow_inf: bool = False,
    finite: bool = True,
) -> Tensor:
    """Check that ``x`` is a non-empty floating-point tensor without NaN (or inf).

    Parameters
    ----------
    x
        The object to check.
    name
        The argument's name, used in error messages.
    min_ndim, ndim
        Required number of dimensions: at least ``min_ndim``, and one of ``ndim`` if given.
    allow_empty
        Whether a tensor with zero elements is acceptable.
    allow_inf
        Whether ±inf entries are acceptable (NaN never is).
    finite
        ``False`` skips the look at the values (kind and shape only): for a module's
        ``forward``, where a finiteness check would synchronise the GPU on every training step.

    Returns
    -------
    Tensor
        ``x`` itself, unchanged.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor with a floating dtype; got {_kind(x)}")
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must have a floating dtype such as torch.float64; got {_kind(x)} "
            f"(convert it with .double())"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            wanted = " or ".join(str(k) for k in allowed)
            raise ValueError(f"{name} must have {wanted} dimension(s); got shape {tuple(x.shape)}")
    if x.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s); got shape {tuple(x.shape)}"
        )
    if not allow_empty and x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); it needs at least one value")
    return check_finite(x, name, allow_inf=allow_inf) if finite else x


def check_array(x: object, name: str, *, allow_empty: bool = True) -> np.ndarray:
    """``x`` (a NumPy array, a list, a number) as a float64 NumPy array of finite values."""
    if isinstance(x, Tensor):
        x = check_tensor(x, name, allow_empty=allow_empty).detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers; got {_kind(x)}") from None
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty; it needs at least one value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_rows(x: object, name: str, dim: int, *, finite: bool = True) -> Tensor:
    """Check that ``x`` is a floating tensor of ``dim``-dimensional points, shape ``(n, dim)``."""
    x = check_tensor(x, name, ndim=2, finite=finite)
    if x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}); got {tuple(x.shape)}")
    return x


def _bounds_text(low, high, low_open, high_open) -> str:
    """``"be > 0"``, ``"lie in [0, 1)"``... : the allowed range in words, for error messages."""
    if high is None:
        return f"be {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"be {'<' if high_open else '<='} {high:g}"
    opening, closing = "(" if low_open else "[", ")" if high_open else "]"
    return f"lie in {opening}{low:g}, {high:g}{closing}"


def check_real(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    positive: bool = False,
) -> float:
    """Check that ``value`` is a finite real number (not a bool) and return it as a float.

    ``low`` / ``high`` bound it (inclusive unless ``low_open`` / ``high_open``), e.g.
    ``check_real(sigma, "sigma", low=0, low_open=True)`` for a scale: the error then reads
    "sigma must be > 0; got -1.0". ``positive=True`` is short for ``low=0, low_open=True``.
    NumPy scalars are accepted (they are real numbers).
    """
    if positive:
        low, low_open = 0.0, True
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {_kind(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ValueError(
            f"{name} must {_bounds_text(low, high, low_open, high_open)}; got {value:g}"
        )
    return value


def check_int(
    value: object, name: str, *, minimum: int | None = 1, maximum: int | None = None
) -> int:
    """Check that ``value`` is an integer (not a bool) in ``[minimum, maximum]`` and return it.

    ``None`` leaves that side unbounded; NumPy integers are accepted.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
    return int(value)


def check_iterations(value: object, name: str = "n_steps", *, minimum: int = 1) -> int:
    """An iteration count in ``[minimum, MAX_ITERATIONS]`` (10**7): larger ones are refused
    instead of running for hours."""
    value = check_int(value, name, minimum=minimum)
    if value > MAX_ITERATIONS:
        raise ValueError(
            f"{name} must be <= {MAX_ITERATIONS:.0e} (MAX_ITERATIONS); got {value}, which "
            "would run for hours"
        )
    return value


#: Largest number of layers (or blocks) a companion model accepts.
MAX_LAYERS = 1_000


def check_dim(dim: object, x: Tensor, name: str = "dim") -> int:
    """Check that ``dim`` is an integer that indexes a dimension of ``x`` (negative allowed)."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {_kind(dim)}")
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise ValueError(
            f"{name}={dim} is out of range for a tensor of shape {tuple(x.shape)} "
            f"(valid: {-max(x.ndim, 1)} to {max(x.ndim, 1) - 1})"
        )
    return int(dim)


def check_callable(f: object, name: str):
    """Check that ``f`` can be called (a function, a module, a distribution's method...)."""
    if not callable(f):
        raise TypeError(f"{name} must be callable; got {_kind(f)}")
    return f


def check_choice(value: object, name: str, options) -> object:
    """Check that ``value`` is one of ``options`` (compared with ``==``) and return it."""
    options = tuple(options)
    # compared with options of its own type only: no numpy/tensor elementwise ==, no True == 1
    if not any(type(value) is type(option) and value == option for option in options):
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def as_tensor_param(value: object, name: str, like: Tensor | None = None) -> Tensor:
    """Accept a scalar parameter as a Python number or a floating tensor; return a tensor.

    Python numbers become 0-d tensors with ``like``'s dtype and device (float64 on the CPU
    when ``like`` is ``None``). Tensors are checked with :func:`check_tensor` and returned as
    they are, so gradients keep flowing through them.
    """
    if isinstance(value, Tensor):
        return check_tensor(value, name)
    number = check_real(value, name)
    if like is None:
        return torch.tensor(number, dtype=torch.float64)
    return torch.tensor(number, dtype=like.dtype, device=like.device)


def check_positive(x: Tensor, name: str) -> Tensor:
    """Raise ``ValueError`` unless every entry of ``x`` is strictly positive."""
    values = x.detach()
    if (values <= 0).any():
        raise ValueError(f"{name} must be > 0 everywhere; got a value of {values.min().item():g}")
    return x


def check_values(
    x: Tensor,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    positive: bool = False,
) -> Tensor:
    """Raise ``ValueError`` unless every entry of ``x`` lies within the bounds, which read as in
    :func:`check_real` (e.g. ``positive=True``: every entry > 0)."""
    if positive:
        low, low_open = 0.0, True
    values = x.detach()
    bad = torch.zeros_like(values, dtype=torch.bool)
    if low is not None:
        bad |= values <= low if low_open else values < low
    if high is not None:
        bad |= values >= high if high_open else values > high
    if bad.any():
        offender = values[bad].flatten()[0].item()
        where = _bounds_text(low, high, low_open, high_open)
        raise ValueError(f"{name} must {where} everywhere; got {offender:g}")
    return x


def check_interval(
    x: Tensor,
    name: str,
    low: float,
    high: float,
    *,
    closed: bool = True,
) -> Tensor:
    """Raise ``ValueError`` unless every entry lies in ``[low, high]`` (``(low, high)`` if not
    ``closed``)."""
    values = x.detach()
    if closed:
        bad = (values < low) | (values > high)
        interval = f"[{low:g}, {high:g}]"
    else:
        bad = (values <= low) | (values >= high)
        interval = f"({low:g}, {high:g})"
    if bad.any():
        offender = values[bad].flatten()[0].item()
        raise ValueError(f"{name} must lie in {interval}; got {offender:g}")
    return x


def check_probability(
    p: object, name: str, dim: int | tuple[int, ...] = -1, *, atol: float = PROBABILITY_ATOL
) -> Tensor:
    """Check that ``p`` holds probability vectors along ``dim``: entries >= 0 summing to 1.

    The sum may differ from one by at most ``atol`` (default ``1e-6``). Unlike
    :func:`scipy.stats.entropy`, nothing is renormalised: a vector that does not sum to one is
    an error, because it usually means a bug upstream.
    """
    p = check_tensor(p, name, min_ndim=1)
    for d in (dim,) if not isinstance(dim, tuple) else dim:
        check_dim(d, p)
    values = p.detach()
    if (values < 0).any():
        raise ValueError(
            f"{name} must be a probability vector with entries >= 0; "
            f"got a negative entry {values.min().item():g}"
        )
    sums = values.sum(dim=dim)
    worst = (sums - 1).abs().max().item()
    if worst > atol:
        raise ValueError(
            f"{name} must sum to 1 along dim={dim} (tolerance {atol:g}); got a sum of "
            f"{sums.flatten()[(sums - 1).abs().flatten().argmax()].item():.10g}. "
            "It is not renormalised automatically; divide by its sum if that is what you mean"
        )
    return p


def check_spd(cov: object, name: str, *, rtol: float = 1e-8) -> Tensor:
    """Check that ``cov`` is a (batch of) symmetric positive-definite matrices.

    Symmetry is judged up to ``rtol`` times the largest absolute entry; positive definiteness by
    whether a Cholesky factorisation succeeds.

    Returns
    -------
    Tensor
        The lower Cholesky factor ``L`` with ``cov = L @ L.mT``, for the caller to reuse.
    """
    cov = check_tensor(cov, name, min_ndim=2)
    if cov.shape[-1] != cov.shape[-2]:
        raise ValueError(
            f"{name} must be a square matrix (..., d, d); got shape {tuple(cov.shape)}"
        )
    values = cov.detach()
    scale = values.abs().amax(dim=(-2, -1), keepdim=True)
    asym = (values - values.mT).abs().amax(dim=(-2, -1), keepdim=True)
    if (asym > rtol * scale).any():
        raise ValueError(
            f"{name} must be symmetric; the largest |C - C^T| entry is {asym.max().item():.3g}"
        )
    chol, info = torch.linalg.cholesky_ex(cov)
    if (info != 0).any():
        raise ValueError(
            f"{name} must be positive definite (all eigenvalues > 0); its Cholesky "
            "factorisation failed"
        )
    return chol


def check_probability_pair(p: object, q: object, dim: int = -1) -> tuple[Tensor, Tensor]:
    """Validate two probability tensors ``p`` and ``q`` over the same outcomes along ``dim``."""
    p = check_probability(p, "p", dim)
    q = check_probability(q, "q", dim)
    check_same_device({"p": p, "q": q})
    if p.shape[dim] != q.shape[dim]:
        raise ValueError(
            f"p and q must have the same number of outcomes along dim={dim}; "
            f"got {p.shape[dim]} and {q.shape[dim]} (shapes {tuple(p.shape)} and {tuple(q.shape)})"
        )
    check_broadcastable(p, q, "p", "q")
    return p, q


def check_same_shape(a: Tensor, b: Tensor, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless tensors ``a`` and ``b`` have exactly the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} (shape {tuple(a.shape)}) and {name_b} (shape {tuple(b.shape)}) "
            "must have the same shape"
        )


def check_broadcastable(a: Tensor, b: Tensor, name_a: str, name_b: str) -> torch.Size:
    """Return the broadcast shape of ``a`` and ``b`` or raise a ``ValueError`` naming both."""
    try:
        return torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError:
        raise ValueError(
            f"{name_a} (shape {tuple(a.shape)}) and {name_b} (shape {tuple(b.shape)}) "
            "have mismatched shapes: they cannot be broadcast together"
        ) from None


def check_same_device(tensors: dict[str, Tensor]) -> torch.device:
    """Raise ``ValueError`` if the named tensors are not all on one device; return it."""
    devices = {name: t.device for name, t in tensors.items()}
    first = next(iter(devices.values()))
    if any(dev != first for dev in devices.values()):
        listing = ", ".join(f"{name} on {dev}" for name, dev in devices.items())
        raise ValueError(f"all tensors must be on the same device; got {listing}")
    return first


def log_of_base(base: object) -> float | None:
    """Validate a logarithm base and return its natural log (``None`` for nats).

    ``base=None`` means natural logarithms (nats); ``base=2`` gives bits. Any real base > 0
    other than 1 is accepted.
    """
    if base is None:
        return None
    value = check_real(base, "base", low=0, low_open=True)
    if value == 1:
        raise ValueError(
            f"base must be > 0 and != 1 (e.g. 2 for bits), or None for nats; got {base}"
        )
    return math.log(value)
