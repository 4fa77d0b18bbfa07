"""pinn_tutorial: why physics-informed neural networks fail to train, and how to fix it.

A small PyTorch library that reproduces Wang, Teng & Perdikaris, "Understanding and mitigating
gradient flow pathologies in physics-informed neural networks" (SIAM J. Sci. Comput. 2021,
arXiv:2001.04536), module by module:

- ``problems``: the benchmark PDEs (1-D Poisson, Helmholtz, Klein-Gordon, the lid-driven cavity), and
  ``problems.causal``, causal training for time-dependent problems (later work);
- ``reference``: the cavity's finite-difference reference solution;
- ``networks``: ``MLP`` and the gated ``ModifiedMLP``;
- ``weighting``: fixed weights, ``LearningRateAnnealing`` (Algorithm 1), and ``GradientNormWeighting``;
- ``methods``: the presets M1..M4 (and GN2, GN4);
- ``diagnostics``, ``plotting``: the measurements and figures of the book;
- ``training``: the training loop (``train``, ``Trainer``, ``History``);
- ``config``: budgets (quick / default / paper), device, seeding.
"""

from .config import BUDGETS, get_budget, get_device
from .methods import METHODS, build
from .networks import MLP, ModifiedMLP
from .problems import PROBLEMS, Helmholtz, KleinGordon, Poisson1D, get_problem
from .training import History, NonFiniteLossError, Trainer, train
from .weighting import FixedWeights, LearningRateAnnealing

__version__ = "0.1.0"

__all__ = [
    "BUDGETS", "METHODS", "PROBLEMS", "MLP", "FixedWeights", "Helmholtz", "History", "KleinGordon",
    "LearningRateAnnealing", "ModifiedMLP", "NonFiniteLossError", "Poisson1D", "Trainer",
    "build", "get_budget", "get_device", "get_problem", "train",
]
