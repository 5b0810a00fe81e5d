"""The contract every ``fit`` shares (companion.models.fit_run): the caller's random state is
left alone, a seed reproduces the parameters, every default lives in a public ``DEFAULTS``, and
bad input is refused with a clear error."""

from __future__ import annotations

import time

import pytest
import torch

from companion import diffusion, flows, gan, models, vae, zoo
from companion.data import moons

_X = moons(64, seed=0)
_LABELS = torch.arange(64) % 2
_TOKENS = zoo.discretize(_X, 6, -2.0, 3.0)
_SEQS = zoo.markov_sequences(torch.full((3, 3, 3), 1 / 3), 32, 7)
_SMALL = {"hidden": (8,), "batch_size": 16}


def _real(n: int) -> torch.Tensor:
    return torch.randn(n, 1) + 1


def _fake(n: int) -> torch.Tensor:
    return torch.randn(n, 1)


#: name -> (module holding the fit and its DEFAULTS, DEFAULTS, fit(data, **kw) for tiny runs,
#: its own valid data)
FITS = {
    "gan": (gan, gan.DEFAULTS, lambda d, **kw: gan.fit(d, **_SMALL, **kw), _X),
    "gan_conditional": (
        gan,
        gan.DEFAULTS,
        lambda d, **kw: gan.fit(d, labels=_LABELS[: len(d)], n_snapshots=2, **_SMALL, **kw),
        _X,
    ),
    "vae": (vae, vae.DEFAULTS, lambda d, **kw: vae.fit(d, **_SMALL, **kw), _X),
    "vae_conditional": (
        vae,
        vae.DEFAULTS,
        lambda d, **kw: vae.fit(d, labels=_LABELS[: len(d)], **_SMALL, **kw),
        _X,
    ),
    "flows": (flows, flows.DEFAULTS, lambda d, **kw: flows.fit(d, layers=2, hidden=8, **kw), _X),
    "diffusion": (
        diffusion,
        diffusion.DEFAULTS,
        lambda d, **kw: diffusion.fit(d, T=20, hidden=8, **kw),
        _X,
    ),
    "fit_autoregressive": (
        zoo.autoregressive,
        zoo.DEFAULTS["fit_autoregressive"],
        lambda d, **kw: zoo.fit_autoregressive(d, categories=6, hidden=8, **kw),
        _TOKENS,
    ),
    "fit_score": (
        zoo.score,
        zoo.DEFAULTS["fit_score"],
        lambda d, **kw: zoo.fit_score(d, hidden=8, **kw),
        _X,
    ),
    "fit_ode_flow": (
        zoo.ode,
        zoo.DEFAULTS["fit_ode_flow"],
        lambda d, **kw: zoo.fit_ode_flow(d, hidden=8, **kw),
        _X,
    ),
    "fit_transformer": (
        zoo.transformer,
        zoo.DEFAULTS["fit_transformer"],
        lambda d, **kw: zoo.fit_transformer(d, width=8, **kw),
        _SEQS,
    ),
    "fit_rbm": (
        zoo.rbm,
        zoo.DEFAULTS["fit_rbm"],
        lambda d, **kw: zoo.fit_rbm(d, hidden=4, **kw),
        (_X > 0).double(),
    ),
}
FLOAT_FITS = [name for name, (*_, data) in FITS.items() if data.is_floating_point()]
TOKEN_FITS = [name for name in FITS if name not in FLOAT_FITS]


def _tiny(name: str, **kw):
    _, _, fit, data = FITS[name]
    return fit(data, **{"steps": 3, "seed": 0, "device": "cpu", "progress": False, **kw})


def _params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_every_zoo_fit_is_in_the_table():
    fits = {name for name in zoo.__all__ if name.startswith("fit_")}
    assert fits == set(zoo.DEFAULTS)
    assert fits <= set(FITS)


@pytest.mark.parametrize("name", FITS)
def test_fit_leaves_the_global_random_state_alone(name):
    torch.manual_seed(123)
    _tiny(name)
    after_fit = torch.rand(1)
    torch.manual_seed(123)
    untouched = torch.rand(1)
    assert torch.equal(after_fit, untouched)


def test_train_discriminator_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    gan.train_discriminator(_real, _fake, steps=3, batch_size=8, hidden=(4,), device="cpu")
    after = torch.rand(1)
    torch.manual_seed(123)
    assert torch.equal(after, torch.rand(1))


@pytest.mark.parametrize("name", FITS)
def test_same_seed_same_parameters_other_seed_other_parameters(name):
    torch.manual_seed(1)
    first = _params(_tiny(name, seed=5))
    torch.manual_seed(2)  # the caller's state must not matter either
    second = _params(_tiny(name, seed=5))
    other = _params(_tiny(name, seed=6))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_seeded_restores_the_state_and_seeds_inside():
    torch.manual_seed(7)
    with models.seeded(3, "cpu"):
        inside = torch.rand(2)
    after = torch.rand(1)
    torch.manual_seed(3)
    assert torch.equal(inside, torch.rand(2))
    torch.manual_seed(7)
    assert torch.equal(after, torch.rand(1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_cuda_leaves_the_cuda_random_state_alone():
    torch.cuda.manual_seed(123)
    vae.fit(_X, steps=3, device="cuda", progress=False, **_SMALL)
    after = torch.rand(1, device="cuda")
    torch.cuda.manual_seed(123)
    assert torch.equal(after, torch.rand(1, device="cuda"))


# -- one DEFAULTS per family, read by fit ---------------------------------------------------------
@pytest.mark.parametrize("name", FITS)
def test_defaults_hold_every_default_and_the_shared_names(name):
    _, defaults, _, _ = FITS[name]
    assert {"steps", "lr", "batch_size"} <= set(defaults)
    assert isinstance(defaults["steps"], int) and defaults["steps"] >= 1


class _Stop(Exception):
    pass


@pytest.mark.parametrize("name", FITS)
def test_fit_reads_its_steps_from_defaults(name, monkeypatch):
    module, defaults, fit, data = FITS[name]
    seen = {}

    def fake_train(step, steps, **_):
        seen["steps"] = steps
        raise _Stop  # stop before any training

    owner = module if hasattr(module, "train") else zoo._common
    monkeypatch.setattr(owner, "train", fake_train)
    monkeypatch.setitem(defaults, "steps", 17)
    with pytest.raises(_Stop):
        fit(data, seed=0, device="cpu", progress=False)
    assert seen["steps"] == 17


@pytest.mark.parametrize("name", FITS)
def test_unknown_hyper_parameter_is_refused(name):
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        _tiny(name, learning_rate=1e-3)


def test_zoo_defaults_are_the_submodules_dicts():
    assert zoo.DEFAULTS["fit_score"] is zoo.score.DEFAULTS
    assert set(zoo.DEFAULTS) == {n for n in zoo.__all__ if n.startswith("fit_")}


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FITS)
def test_huge_steps_are_refused_at_once(name):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="steps must be <="):
        _tiny(name, steps=models.MAX_STEPS + 1)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("name", FITS)
@pytest.mark.parametrize("steps", [0, -1])
def test_non_positive_steps_are_refused(name, steps):
    with pytest.raises(ValueError, match="steps"):
        _tiny(name, steps=steps)


@pytest.mark.parametrize("name", FITS)
@pytest.mark.parametrize(
    ("kw", "error"),
    [({"seed": -1}, ValueError), ({"progress": "yes"}, TypeError), ({"steps": 2.5}, TypeError)],
)
def test_bad_common_arguments(name, kw, error):
    with pytest.raises(error):
        _tiny(name, **kw)


@pytest.mark.parametrize("name", FLOAT_FITS)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (torch.empty(0, 2), "empty"),
        (torch.zeros(1, 2), "at least 2 rows"),
        (torch.tensor([[0.0, 1.0], [float("nan"), 0.0]]), "NaN"),
        (torch.tensor([[0.0, 1.0], [float("inf"), 0.0]]), "infinite"),
        (torch.tensor([[0.0, 1.0], [1e300, 0.0]], dtype=torch.float64), "too large for float32"),
    ],
)
def test_bad_float_data_is_refused(name, data, message):
    _, _, fit, _ = FITS[name]
    with pytest.raises(ValueError, match=message):
        fit(data, steps=3, device="cpu", progress=False)


@pytest.mark.parametrize("name", FLOAT_FITS)
def test_non_tensor_data_is_refused(name):
    _, _, fit, _ = FITS[name]
    with pytest.raises(TypeError, match="data"):
        fit([[0.0, 1.0], [1.0, 0.0]], steps=3, device="cpu", progress=False)


@pytest.mark.parametrize("name", TOKEN_FITS)
@pytest.mark.parametrize(
    ("data", "error"),
    [
        (torch.zeros(0, 3, dtype=torch.int64), ValueError),
        (torch.zeros(1, 3, dtype=torch.int64), ValueError),
        (torch.zeros(4, 3), TypeError),
        (torch.tensor([[0, 1, 2], [-1, 0, 1]]), ValueError),
    ],
)
def test_bad_token_data_is_refused(name, data, error):
    _, _, fit, _ = FITS[name]
    with pytest.raises(error, match="data"):
        fit(data, steps=3, device="cpu", progress=False)
