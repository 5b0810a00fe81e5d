"""The generative model zoo: small, exact versions of the families beyond the big four.

Each part belongs to one section of the chapter "The generative model zoo":

* **Autoregressive models** — :class:`DiscreteAutoregressive`, a masked autoencoder (MADE) for
  ``D`` discrete variables with ``K`` values each, whose likelihood
  ``p(x) = prod_i p(x_i | x_<i)`` is exact; :func:`discretize` turns 2-D points into bin indices.
* **Energy-based models** — the ring energy, its partition function in closed form and on a
  grid, and unadjusted Langevin sampling (:func:`langevin`), with the exact stationary variance
  of Langevin on a Gaussian (:func:`ula_gaussian_variance`) to show its step-size bias.
* **Score-based models** — :class:`ScoreNet`, a noise-conditional score network trained by
  denoising score matching (:func:`dsm_loss`, :func:`fit_score`), the exact score of a noised
  Gaussian mixture, and annealed Langevin sampling.
* **Neural ODEs / continuous flows** — :class:`VelocityNet` trained by flow matching
  (:func:`fit_ode_flow`); :func:`ode_log_prob` evaluates the exact likelihood through the
  instantaneous change of variables ``d log p(x_t)/dt = −tr(∂v/∂x)``.
* **Transformers** — :class:`TinyTransformer`, one causal self-attention block (attention and
  layer norm from :mod:`companion.components`), trained on sequences of a second-order Markov
  chain whose entropy rate (:func:`markov_entropy_rate`) is the best achievable loss.
* **Sparse latent models** — :func:`ista` solves ``min_z ½‖x − D z‖² + λ‖z‖₁``.

Conventions: logarithms are natural (nats); ``step`` in Langevin is the η of
``x ← x + η ∇log p(x) + sqrt(2η) ξ``; ``sigma`` is a standard deviation; continuous flows map
noise at ``t = 0`` to data at ``t = 1``. Every ``fit_*`` follows the family contract of
:mod:`companion.models` (``steps``, ``seed``, ``device``, ``progress`` keywords).

The families live in submodules (``autoregressive``, ``energy``, ``score``, ``ode``,
``transformer``, ``sparse``); everything public is re-exported here, so
``from companion.zoo import ScoreNet`` keeps working.
"""

from . import autoregressive as _autoregressive
from . import ode as _ode
from . import rbm as _rbm
from . import score as _score
from . import transformer as _transformer
from .autoregressive import DiscreteAutoregressive, discretize, fit_autoregressive
from .energy import (
    grid_log_partition,
    langevin,
    ring_energy,
    ring_log_partition,
    ring_score,
    ula_gaussian_variance,
)
from .experiments import (
    flow_paths,
    langevin_ring,
    next_symbol_probs,
    ring_density_grid,
    ring_radial_moments,
    sample_by_uniforms,
)
from .ode import VelocityNet, fit_ode_flow, ode_log_prob, rk4
from .rbm import RBM, cd_gradient, fit_rbm
from .score import ScoreNet, annealed_langevin, dsm_loss, fit_score, mixture_score
from .sparse import ista, soft_threshold
from .transformer import TinyTransformer, fit_transformer, markov_entropy_rate, markov_sequences

__all__ = [
    "discretize",
    "DiscreteAutoregressive",
    "fit_autoregressive",
    "ring_energy",
    "ring_score",
    "ring_log_partition",
    "grid_log_partition",
    "langevin",
    "ula_gaussian_variance",
    "mixture_score",
    "ScoreNet",
    "dsm_loss",
    "fit_score",
    "annealed_langevin",
    "VelocityNet",
    "fit_ode_flow",
    "rk4",
    "ode_log_prob",
    "markov_sequences",
    "markov_entropy_rate",
    "TinyTransformer",
    "fit_transformer",
    "soft_threshold",
    "ista",
    "PRETRAINED",
    "DEFAULTS",
    # the computations behind the chapter's figures
    "ring_density_grid",
    "ring_radial_moments",
    "langevin_ring",
    "flow_paths",
    "next_symbol_probs",
    "sample_by_uniforms",
    # restricted Boltzmann machines (the chapter's history section)
    "RBM",
    "cd_gradient",
    "fit_rbm",
]

#: No zoo model needs a shipped checkpoint: all train within the chapter's budget.
PRETRAINED: dict = {}

#: Every default of every ``fit_*``, keyed by the function's name (the same dicts the
#: submodules define next to each function, e.g. ``companion.zoo.score.DEFAULTS``; one
#: convention for all families: see :mod:`companion.models`).
DEFAULTS: dict[str, dict[str, object]] = {
    "fit_autoregressive": _autoregressive.DEFAULTS,
    "fit_score": _score.DEFAULTS,
    "fit_ode_flow": _ode.DEFAULTS,
    "fit_transformer": _transformer.DEFAULTS,
    "fit_rbm": _rbm.DEFAULTS,
}
