"""pinn_tutorial: why physics-informed neural networks fail to train, and how to fix it.

A small PyTorch library that reproduces Wang, Teng & Perdikaris, "Understanding and mitigating
gradient flow pathologies in physics-informed neural networks" (SIAM J. Sci. Comput. 2021,
arXiv:2001.04536), module by module:

- ``config``: budgets (quick / default / paper), device, seeding, threads;
- ``autodiff``: derivatives of a network's output with respect to its inputs;
- ``sampling``: uniform random points in a box, on its faces, on a time slice;
- ``metrics``: the relative L2 error (and the cavity code's spectral-norm variant);
- ``problems``: the benchmark PDEs (1-D Poisson, Helmholtz, Klein-Gordon, the lid-driven cavity, and Burgers),
  each a residual and named conditions, registered by name; ``problems.causal``, causal training for
  time-dependent problems (later work);
- ``reference``: the cavity's finite-difference reference solution and Ghia et al.'s data;
- ``registry``: the problems and weighting schemes by name, each imported the first time it is asked for;
- ``networks``: ``MLP`` and the gated ``ModifiedMLP``; ``rwf_fourier``, random weight factorisation with Fourier
  features (later work);
- ``weighting``: the weighting schemes, one module each, registered by name: fixed weights,
  ``LearningRateAnnealing`` (Algorithm 1), ``GradientNormWeighting``, ``NTKWeighting``, ``ReLoBRaLo``,
  ``SoftAdapt``, and the gradient-surgery schemes that set the step's direction themselves, ``PCGrad`` and ``ConFIG``;
- ``tangent_kernel``: each loss term's mean neural-tangent-kernel diagonal on a batch, from per-point gradients
  (what NTK weighting reads);
- ``methods``: a network and a weighting built together, and the paper's pairs M1..M4 (and GN2, GN4) as presets;
- ``training``: the training loop and its one step, for a run and an ensemble alike (``train``, ``Trainer``,
  ``History``), with Adam, or ``soap``, SOAP, a later optimiser (later work);
- ``compiled_step``: a step's loss terms and their gradients as one compiled function;
- ``checkpoints``: a run's state on disk, read without running code;
- ``ensembles``: seed ensembles, several runs trained as one batched model;
- ``diagnostics``: the measuring instruments: per-term gradient statistics and histograms, Hessian
  eigenvalues, NTK traces, the gradients' conflicts (cosines, alignment), and ``GradientMonitor`` to record them
  during training;
- ``plotting``: every figure of the book;
- ``exercises``: the checks of the book's coding exercises (one module per exercise);
- ``reproduction``: the reproduction machinery, a subpackage that the core (``config`` to ``ensembles``) never
  imports: the run spec and result files (``experiments``), sweeps on local workers or Ray (``sweeps``), the
  paper's tables (``paper_tables``), log-scale comparisons (``comparison``), the paper's numbers (``paper``),
  Markdown tables (``tables``), the later remedies against M4 (``leaderboard``), the diagnostic studies
  (``studies``), timings (``bench``) and the authors' TensorFlow code (``original_code``);
- ``__main__``: the command line, ``python -m pinn_tutorial --help``.
"""

import importlib

__version__ = "0.1.0"

# What ``from pinn_tutorial import X`` gives, and the module that defines it. Imported on first use (PEP 562), so
# that ``python -m pinn_tutorial`` starts its command line before torch loads (a Ctrl-C then exits quietly).
_EXPORTS = {
    "BUDGETS": "config", "get_budget": "config", "get_device": "config",
    "METHODS": "methods", "build": "methods",
    "MLP": "networks", "ModifiedMLP": "networks",
    "PROBLEMS": "problems", "Burgers": "problems", "Helmholtz": "problems", "KleinGordon": "problems",
    "Poisson1D": "problems", "get_problem": "problems",
    "History": "training", "NonFiniteLossError": "training", "Trainer": "training", "train": "training",
    "FixedWeights": "weighting", "LearningRateAnnealing": "weighting",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
