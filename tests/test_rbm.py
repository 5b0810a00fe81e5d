"""companion.zoo.RBM: every identity against brute-force enumeration of all (v, h) states.

The references here never call the RBM's own formulas: energies, free energies, conditionals,
partition functions and likelihoods are computed from the definition
``E(v, h) = −b·v − c·h − hᵀWv`` by summing over every binary configuration (NumPy, float64).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

from companion import zoo

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def states(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def tiny_rbm(visible: int, hidden: int, seed: int, scale: float = 1.0) -> zoo.RBM:
    rng = np.random.default_rng(seed)
    model = zoo.RBM(visible, hidden).double()
    with torch.no_grad():
        model.W.copy_(torch.from_numpy(scale * rng.normal(size=(hidden, visible))))
        model.b.copy_(torch.from_numpy(rng.normal(size=visible)))
        model.c.copy_(torch.from_numpy(rng.normal(size=hidden)))
    return model


def params(model: zoo.RBM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(p.detach().double().numpy() for p in (model.W, model.b, model.c))


def neg_energy_table(model: zoo.RBM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All visible states V, all hidden states H and the table −E(V_a, H_b)."""
    w, b, c = params(model)
    vs, hs = states(w.shape[1]), states(w.shape[0])
    neg_e = (vs @ b)[:, None] + (hs @ c)[None, :] + np.einsum("bj,ji,ai->ab", hs, w, vs)
    return vs, hs, neg_e


def exact_mean_log_lik(model: zoo.RBM, data: np.ndarray) -> float:
    vs, _, neg_e = neg_energy_table(model)
    log_pv = logsumexp(neg_e, axis=1) - logsumexp(neg_e)
    index = {tuple(v): a for a, v in enumerate(vs)}
    return float(np.mean([log_pv[index[tuple(row)]] for row in data]))


@pytest.mark.parametrize(("visible", "hidden", "seed"), [(3, 2, 0), (4, 5, 1), (6, 3, 2)])
def test_energy_and_free_energy_against_enumeration(visible, hidden, seed):
    model = tiny_rbm(visible, hidden, seed)
    vs, hs, neg_e = neg_energy_table(model)
    v_t, h_t = torch.from_numpy(vs), torch.from_numpy(hs)
    for a in range(len(vs)):
        e = model.energy(v_t[a].expand(len(hs), -1), h_t).detach().numpy()
        np.testing.assert_allclose(-e, neg_e[a], rtol=0, atol=1e-12)
    free = model.free_energy(v_t).detach().numpy()
    np.testing.assert_allclose(free, -logsumexp(neg_e, axis=1), rtol=0, atol=1e-10)
    # log Z from either branch (enumerating h or v) against the full double sum.
    np.testing.assert_allclose(model.log_partition().item(), logsumexp(neg_e), atol=1e-10)
    np.testing.assert_allclose(model.log_prob(v_t).exp().sum().item(), 1.0, atol=1e-12)


@pytest.mark.parametrize(("visible", "hidden", "seed"), [(3, 2, 3), (4, 3, 4)])
def test_conditionals_against_enumeration(visible, hidden, seed):
    model = tiny_rbm(visible, hidden, seed)
    vs, hs, neg_e = neg_energy_table(model)
    joint = np.exp(neg_e - logsumexp(neg_e))  # p(v_a, h_b)
    p_h = joint / joint.sum(1, keepdims=True)  # p(h_b | v_a)
    p_v = joint / joint.sum(0, keepdims=True)  # p(v_a | h_b)
    want_h = p_h @ hs  # (V, H): p(h_j = 1 | v_a)
    want_v = p_v.T @ vs  # (H-states, V): p(v_i = 1 | h_b)
    got_h = model.p_h_given_v(torch.from_numpy(vs)).detach().numpy()
    got_v = model.p_v_given_h(torch.from_numpy(hs)).detach().numpy()
    np.testing.assert_allclose(got_h, want_h, atol=1e-12)
    np.testing.assert_allclose(got_v, want_v, atol=1e-12)


def test_gibbs_chains_reach_the_exact_distribution():
    model = tiny_rbm(3, 2, 5, scale=1.5)
    vs, _, neg_e = neg_energy_table(model)
    p_v = np.exp(logsumexp(neg_e, axis=1) - logsumexp(neg_e))
    n = 20_000
    gen = torch.Generator().manual_seed(0)
    draws = model.sample(n, steps=30, generator=gen).numpy()
    codes = (draws @ (2 ** np.arange(2, -1, -1))).astype(int)  # same order as itertools
    counts = np.bincount(codes, minlength=8)
    assert stats.chisquare(counts, p_v * n).pvalue > 1e-3
    # Zero sweeps return the start unchanged; one sweep from all-zeros is not yet stationary.
    start = torch.zeros(n, 3, dtype=torch.float64)
    assert (model.gibbs(start, 0, gen) == 0).all()
    first = model.gibbs_step(start, gen).numpy()
    counts = np.bincount((first @ (2 ** np.arange(2, -1, -1))).astype(int), minlength=8)
    assert stats.chisquare(counts, p_v * n).pvalue < 1e-6


def test_cd_infinity_is_the_exact_gradient():
    """With the negative phase replaced by the exact model average (every v with weight p(v)),
    the CD estimate equals autograd of the exact log-likelihood (brute force in torch)."""
    model = tiny_rbm(4, 3, 6)
    rng = np.random.default_rng(0)
    data = torch.from_numpy(rng.integers(0, 2, size=(25, 4)).astype(float))
    vs, hs = torch.from_numpy(states(4)), torch.from_numpy(states(3))
    w, b, c = (torch.tensor(p, requires_grad=True) for p in params(model))

    def neg_e(v):  # (N, 2**H) table of −E(v, h)
        return (v @ b)[:, None] + (hs @ c)[None, :] + torch.einsum("bj,ji,ai->ab", hs, w, v)

    log_z = torch.logsumexp(neg_e(vs).flatten(), 0)
    log_lik = (torch.logsumexp(neg_e(data), 1) - log_z).mean()
    grads = dict(zip("Wbc", torch.autograd.grad(log_lik, (w, b, c)), strict=True))
    p_v = torch.softmax(torch.logsumexp(neg_e(vs), 1), 0).detach()
    est = zoo.cd_gradient(model, data, vs, p_v)
    for name in "Wbc":
        torch.testing.assert_close(est[name], grads[name], atol=1e-10, rtol=0)
    # The uniform weighting of the same states is a different (wrong) negative phase.
    wrong = zoo.cd_gradient(model, data, vs)
    assert (wrong["W"] - grads["W"]).abs().max() > 1e-3


def toy_patterns(n: int, seed: int) -> torch.Tensor:
    """Two prototypes 1100 and 0011 with each bit flipped with probability 0.05."""
    rng = np.random.default_rng(seed)
    protos = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=float)
    rows = protos[rng.integers(0, 2, n)]
    flips = rng.random(rows.shape) < 0.05
    return torch.from_numpy(np.abs(rows - flips))


def test_cd_training_raises_the_exact_likelihood():
    data = toy_patterns(400, 0)
    x = data.numpy()
    start = zoo.fit_rbm(data, steps=1, hidden=3, k=1, lr=1e-6, progress=False)
    trained = zoo.fit_rbm(data, steps=600, hidden=3, k=1, lr=0.1, progress=False)
    ll_start, ll_end = exact_mean_log_lik(start, x), exact_mean_log_lik(trained, x)
    # Best model with independent pixels (maximum likelihood Bernoullis): no correlations.
    m = x.mean(0)
    ll_indep = float(np.mean((x * np.log(m) + (1 - x) * np.log1p(-m)).sum(1)))
    assert ll_start == pytest.approx(ll_indep, abs=0.01)  # the start is nearly independent
    assert ll_end > ll_indep + 0.5, (ll_start, ll_end, ll_indep)
    # The model's own exact likelihood agrees with the brute-force one.
    assert trained.double().log_prob(data).mean().item() == pytest.approx(ll_end, abs=1e-6)


def test_fit_leaves_the_global_stream_and_is_reproducible():
    data = toy_patterns(100, 1).float()
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = zoo.fit_rbm(data, steps=20, hidden=3, progress=False, seed=4)
    assert torch.equal(torch.rand(1), expected)
    b = zoo.fit_rbm(data, steps=20, hidden=3, progress=False, seed=4)
    c = zoo.fit_rbm(data, steps=20, hidden=3, progress=False, seed=5)
    assert torch.equal(a.W, b.W) and not torch.equal(a.W, c.W)
    assert len(a.history) > 0 and "recon" in a.history[-1]


def test_save_and_load(tmp_path):
    model = tiny_rbm(4, 3, 7)
    path = model.save(tmp_path / "rbm.pt")
    again = zoo.RBM.load(path)
    v = torch.from_numpy(states(4))
    torch.testing.assert_close(again.double().free_energy(v), model.free_energy(v))


def test_bad_input_is_refused():
    model = tiny_rbm(4, 3, 8)
    good = torch.zeros(2, 4, dtype=torch.float64)
    with pytest.raises(TypeError, match="torch.Tensor"):
        model.free_energy([[0, 1, 0, 1]])
    with pytest.raises(TypeError, match="floating"):
        model.free_energy(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="0s and 1s"):
        model.free_energy(torch.full((2, 4), 0.5, dtype=torch.float64))
    with pytest.raises(ValueError, match="4 columns"):
        model.p_h_given_v(torch.zeros(2, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        model.free_energy(torch.full((2, 4), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="rows"):
        model.energy(good, torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="steps"):
        model.gibbs(good, -1)
    with pytest.raises(ValueError, match="init"):
        model.sample(3, init=good)
    with pytest.raises(ValueError, match="enumerates"):
        zoo.RBM(30, 25).log_partition()
    with pytest.raises(ValueError, match="sum to 1"):
        zoo.cd_gradient(model, good, good, torch.tensor([0.2, 0.2], dtype=torch.float64))
    with pytest.raises(TypeError, match="RBM"):
        zoo.cd_gradient("rbm", good, good)
    with pytest.raises(ValueError, match="hidden"):
        zoo.RBM(4, 0)
    with pytest.raises(ValueError, match="init_std"):
        zoo.RBM(4, 3, init_std=-1.0)
    data = toy_patterns(20, 2)
    with pytest.raises(ValueError, match="0s and 1s"):
        zoo.fit_rbm(data * 0.5, steps=2, progress=False)
    for bad in ({"k": 0}, {"lr": 0.0}, {"momentum": 1.0}, {"hidden": 0}, {"steps": 0}):
        with pytest.raises(ValueError):
            zoo.fit_rbm(data, progress=False, **bad)
    with pytest.raises(TypeError):
        zoo.fit_rbm(data, k=1.5, progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_and_sample_on_cuda_match_the_cpu():
    data = toy_patterns(200, 3).float()
    cpu = zoo.fit_rbm(data, steps=50, hidden=3, progress=False)
    gpu = zoo.fit_rbm(data, steps=50, hidden=3, progress=False, device="cuda")
    assert gpu.W.device.type == "cuda"
    torch.testing.assert_close(gpu.W.cpu(), cpu.W, atol=1e-4, rtol=0)
    draws = gpu.sample(10, steps=5, generator=torch.Generator().manual_seed(0))
    assert draws.device.type == "cuda" and ((draws == 0) | (draws == 1)).all()
