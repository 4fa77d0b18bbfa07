"""Seed ensembles: E independent runs of one architecture trained as one batched model.

The paper's figures are means over 10 trials. Trained one at a time, each run's small matrix
products leave a CPU core underused and a GPU idle; trained together, member e's parameters
become slice e of stacked tensors and ``torch.func.vmap`` maps the one-network loss over them,
so every layer is one E-batched product.

Nothing is shared between members but the arithmetic. Member e keeps

- its own initialisation (``methods.build`` with its seed) and point stream (``sampler_generator``),
  so it draws exactly the points of the single run with that seed;
- its own weighting and lambda_i (members may differ in weighting: M1 beside M2, M3 beside M4);
- its own Adam state: Adam acts entry by entry, so one Adam over the stacked tensors *is* E
  separate Adams with one shared learning-rate schedule;
- its own history, and a result file in exactly the format of a single run.

Member e's gradient is dL^(e)/dtheta^(e) = d(sum_m L^(m))/dtheta^(e), because L^(m) does not
depend on theta^(e) for m != e: one backward pass of the summed loss gives every member's own
gradient. A member whose loss or weight goes non-finite is stopped (its gradient is zero from
then on, its history ends) and reported with its step; the others go on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .compiled_step import CompiledStep, LossTerms, ensemble_term_gradients
from .config import Budget, check_seed, sampler_generator
from .problems import Problem
from .training import History, NonFiniteLossError, TrainingLoop
from .weighting import Weighting


def architecture(net: nn.Module) -> tuple:
    """What members of one ensemble must share: the network's class, sizes, variant and parameter shapes."""
    shapes = tuple((name, tuple(p.shape), p.dtype) for name, p in net.named_parameters())
    return type(net).__name__, tuple(getattr(net, "layers", ())), getattr(net, "variant", None), shapes


class EnsembleTrainer(TrainingLoop):
    """Trains member e = (``nets[e]``, ``weightings[e]``, ``seeds[e]``) for every e, all at once: the step
    engine (``training.TrainingLoop``) with E members whose parameters are stacked.

    The networks must share one architecture, and the problem's loss must be a function that
    ``torch.func`` can map (``problem.compilable``: no nested autograd inside). ``compile``,
    ``adam`` and ``identity`` work as for ``Trainer``: the mapped loss terms and their gradients
    become one graph. Checkpoints, Ctrl-C and resuming work as for one run. ``run`` returns one
    ``History`` per member; ``failures`` names the members stopped by a non-finite loss or
    weight, with the step.
    """

    stops_on_failure = False

    def __init__(self, problem: Problem, nets: Sequence[nn.Module], weightings: Sequence[Weighting],
                 seeds: Sequence[int], budget: str | Budget | None = None,
                 device: str | torch.device | None = None, steps: int | None = None,
                 checkpoint: str | Path | None = None, progress: bool = True,
                 callback: Callable[[EnsembleTrainer, int], None] | None = None,
                 compile: Literal["auto", "on", "off"] = "auto", adam: Literal["torch", "tf1"] = "torch",
                 identity: dict | None = None):
        if not nets or not len(nets) == len(weightings) == len(seeds):
            raise ValueError(f"need one network, weighting and seed per member, got {len(nets)}, "
                             f"{len(weightings)} and {len(seeds)}")
        if len(set(seeds)) != len(seeds) and len({repr(w) for w in weightings}) == 1:
            raise ValueError(f"two members with one weighting have the same seed: {list(seeds)}")
        kinds = {architecture(net) for net in nets}
        if len(kinds) != 1:
            raise ValueError(f"the members of an ensemble share one architecture, got {len(kinds)} different ones")
        if len({w.weighs_points for w in weightings}) > 1:
            raise ValueError("the members of an ensemble either all weigh points (weighting.pointwise) or none does")
        if not problem.compilable:
            raise ValueError(f"{problem.name}'s loss takes nested autograd, which torch.func cannot map over "
                             "members: train its runs one by one")
        super().__init__(problem, list(weightings), [check_seed(s) for s in seeds], budget, steps, device,
                         checkpoint, progress, callback, adam, identity)
        self.nets = [net.to(self.device) for net in nets]  # each member's own module: evaluation and results
        self.compiled = self._use_compile(compile, "auto")
        template = copy.deepcopy(self.nets[0]).to("meta")  # holds the structure; functional_call gives the values
        self._loss_terms = LossTerms(problem, template)
        params, buffers = stack_module_state(self.nets)
        self.params = {f"net.{k}": v.detach().clone().requires_grad_(True) for k, v in params.items()}
        self._trained = self.params
        self.buffers = {f"net.{k}": v.detach().clone() for k, v in buffers.items()}
        self._statistic_names = self._parameter_names(template, "net.")
        self.generators = [sampler_generator(seed) for seed in self.seeds]
        self._setup_optimizer(list(self.params.values()))
        # The compiled graph's input: the stacked parameters without autograd history, sharing their memory.
        self._param_views = {k: v.detach() for k, v in self.params.items()}
        self._compiled_step = CompiledStep(ensemble_term_gradients(self._loss_terms), self.device,
                                           static=self._param_views) if self.compiled else None
        self._weights_changed()

    @property
    def active(self) -> list[bool]:
        """Whether each member still trains (False once its loss or a weight went non-finite)."""
        return self._active

    @active.setter
    def active(self, flags: list[bool]) -> None:
        self._active = list(flags)
        self._active_mask = torch.tensor(self._active, device=self.device)  # kept on the device, made once

    def _weights_changed(self) -> None:
        """lambda_i of every member as a tensor of shape (E,) per weighted term."""
        self._weights = {t: torch.tensor([w.weights[t] for w in self.weightings], dtype=torch.float64,
                                         device=self.device) for t in self.problem.weighted_terms}

    # -- the arithmetic of E stacked networks ----------------------------------------------
    def _member_losses(self, params: dict, buffers: dict, batch: dict) -> dict[str, torch.Tensor]:
        return functional_call(self._loss_terms, (params, buffers), (batch,))

    def _stack(self, batches: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """The members' batches stacked along a leading member axis."""
        return {k: torch.stack([b[k] for b in batches]).to(self.device, non_blocking=True) for k in batches[0]}

    def _point_squares(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        from .weighting.pointwise import members_point_squares

        return members_point_squares(self.problem, self._loss_terms.net, self.params, self.buffers, batch,
                                     members=self.size)

    def _losses_and_gradients(self, batch: dict[str, torch.Tensor]) -> tuple[dict, dict | None]:
        """The losses (E,) per term, with their per-term gradients from the compiled graph; the eager losses and
        None once compiling has failed, or when the run does not compile."""
        result = self._compiled_step(self._param_views, self.buffers, batch) if self.compiled else None
        if result is not None:
            return {t: value for t, (_, value) in result.items()}, {t: g for t, (g, _) in result.items()}
        self.compiled = False
        return vmap(self._member_losses)(self.params, self.buffers, batch), None

    def _weighted_gradient(self, losses: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One backward pass of sum_e (L_r^(e) + sum_i lambda_i^(e) L_i^(e))."""
        total = losses["residual"] + sum(self._weights[t].to(losses[t].dtype) * losses[t]
                                         for t in self.problem.weighted_terms)
        return self._gradient(total.sum())

    def _combine(self, grads: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """g^(e) = g_r^(e) + sum_i lambda_i^(e) g_i^(e) for every member, from the per-term gradients."""
        combined = {}
        for name, g in grads["residual"].items():
            shape = (self.size,) + (1,) * (g.dim() - 1)
            for t, weights in self._weights.items():
                g = g + weights.to(g.dtype).view(shape) * grads[t][name]
            combined[name] = g
        return combined

    def _set_gradients(self, combined: dict[str, torch.Tensor]) -> None:
        """p.grad = each member's combined gradient, zero for stopped members."""
        for name, p in self.params.items():
            g = combined[name]
            mask = self._active_mask.view((self.size,) + (1,) * (g.dim() - 1))
            # contiguous like p: the fused Adam kernel reads a gradient with p's memory layout
            p.grad = torch.where(mask, g, torch.zeros((), dtype=g.dtype, device=g.device)).contiguous()

    def _member_slice(self, tensor: torch.Tensor, e: int) -> torch.Tensor:
        return tensor[e]

    def _kernel_diagonal_means(self, batch: dict[str, torch.Tensor], names: list[str]) -> dict[str, torch.Tensor]:
        from .tangent_kernel import members_diagonal_means

        return members_diagonal_means(self.problem, self._loss_terms.net, self.params, self.buffers, batch, names,
                                      members=self.size)

    # -- evaluation ------------------------------------------------------------------------
    def member(self, e: int) -> nn.Module:
        """Member e's network, holding its current parameters."""
        net = self.nets[e]
        with torch.no_grad():
            for name, p in net.named_parameters():
                p.copy_(self.params[f"net.{name}"][e])
        return net

    def predict(self, e: int, x: torch.Tensor) -> torch.Tensor:
        """Member e's prediction of the solution at points x (no gradients)."""
        with torch.no_grad():
            return self.problem.predict(self.member(e), x.float().to(self.device))

    def _predict(self, e: int, x: torch.Tensor) -> torch.Tensor:
        return self.predict(e, x)

    # -- checkpoints -----------------------------------------------------------------------
    def _member_state(self) -> dict:
        return {"params": {k: v.detach() for k, v in self.params.items()}, "buffers": self.buffers,
                "generators": [g.get_state() for g in self.generators]}

    def _restore_members(self, state: dict) -> None:
        if not isinstance(state["generators"], list) or len(state["generators"]) != self.size:
            raise ValueError(f"its generators are not one per member of {self.size}")
        with torch.no_grad():
            for k, v in state["params"].items():
                self.params[k].copy_(v)
        for g, s in zip(self.generators, state["generators"]):
            g.set_state(s.cpu())

    # -- the loop --------------------------------------------------------------------------
    def run(self, resume: bool = False) -> list[History]:
        """Train every member to ``self.steps`` steps (continuing from the checkpoint if ``resume``).

        Returns one history per member; those of failed members end at their last good log.
        Raises ``NonFiniteLossError`` only if every member has failed.
        """
        self._loop(resume, f"{self.problem.name} ({type(self.nets[0]).__name__} x {self.size})")
        for e in range(self.size):
            if self.active[e]:
                self.member(e)  # leave each member's module holding its trained parameters
        if not any(self.active):
            raise NonFiniteLossError("every member of the ensemble failed: " + "; ".join(
                f"seed {f['seed']}: {f['what']} at step {f['step']}" for f in self.failures.values()))
        return self.histories
