"""The one training loop: Adam with the paper's decay, per-term logging, checkpoints.

Each step draws a fresh batch, evaluates the loss terms, lets the weighting adjust the
lambda_i when it asks to (Algorithm 1 every 10 steps), and takes one Adam step on
L = L_r + sum_i lambda_i L_i with learning rate  1e-3 * 0.9 ** (step / 1000).

A run writes checkpoints when given a path and picks up from one with ``resume=True``:
Ctrl-C (or a Jupyter interrupt) finishes the current step, saves, and stops, and the
resumed run then continues exactly as if it had not been interrupted.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from tqdm.auto import tqdm

from . import checkpoints
from .autodiff import DERIVATIVE_METHODS
from .compiled_step import CompiledStep, LossTerms, term_gradients
from .config import (
    Budget,
    ConfigError,
    choose,
    get_budget,
    get_device,
    is_finite,
    is_whole,
    seed_everything,
    set_threads,
)
from .metrics import relative_l2
from .problems import Problem
from .weighting import Weighting

# Runs of at least this many steps compile their loss terms when compile="auto".
COMPILE_FROM_STEPS = 10_000

# Where Adam adds its epsilon: PyTorch's form, or TensorFlow 1's, which the original code ran.
ADAM_FORMS = ("torch", "tf1")
ADAM_EPSILON = 1e-8  # the default of both


class NonFiniteLossError(FloatingPointError):
    """A loss term or weight became NaN or infinite; the message names the step and the term."""


@dataclass
class History:
    """What a run records: unweighted loss terms, weights and learning rate every ``log_every``
    steps, the relative L2 error every ``eval_every`` steps and at the end, and the records of
    any diagnostics (``diagnostics.GradientMonitor``) taken during training."""

    steps: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=dict)
    weights: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    rel_l2: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    diagnostics: list[dict] = field(default_factory=list)

    @property
    def final_error(self) -> float:
        """The relative L2 error at the end of training."""
        return self.rel_l2[-1]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """The history ``to_dict`` wrote; a ``TypeError`` or ``ValueError`` naming the entry that does not fit."""
        history = cls(**data)
        series = [("steps", history.steps), ("lr", history.lr), ("eval_steps", history.eval_steps),
                  ("rel_l2", history.rel_l2)]
        for name in ("losses", "weights"):
            if not isinstance(getattr(history, name), dict):
                raise TypeError(f"history {name} is not a mapping of terms to lists")
            series += [(f"{name}[{term!r}]", values) for term, values in getattr(history, name).items()]
        for name, values in series:
            if not (isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)):
                raise TypeError(f"history {name} is not a list of numbers")
        if not isinstance(history.diagnostics, list):
            raise TypeError("history diagnostics is not a list")
        wall_s = history.wall_s
        if not (is_finite(wall_s) and wall_s >= 0):
            raise ValueError(f"history wall_s is {wall_s!r}, not a time in seconds")
        # One entry per logged step in every logged series, one per evaluation in the errors: a history with an
        # entry missing (an edited or older file) would resume into series that no longer line up.
        logged = [(name, values) for name, values in series if name not in ("eval_steps", "rel_l2")]
        for name, values in logged + [("rel_l2", history.rel_l2)]:
            expected = len(history.eval_steps) if name == "rel_l2" else len(history.steps)
            if len(values) != expected:
                raise ValueError(f"history {name} has {len(values)} entries for {expected} "
                                 f"{'evaluations' if name == 'rel_l2' else 'logged steps'}")
        return history


# What stops a run as Ctrl-C does (finish the step, save, stop): Ctrl-C itself; SIGTERM, what an IDE's stop button,
# `kill` and schedulers send; SIGHUP, a closed terminal or a dropped ssh session (where the platform has it).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

class TrainingLoop:
    """What every run shares: Adam with the paper's decay, the step loop, logging, evaluation,
    checkpoints and Ctrl-C. ``Trainer`` trains one network, ``ensembles.EnsembleTrainer`` several.

    A subclass sets up its parameters (``_setup_optimizer``) and implements ``train_step``,
    ``_log``, ``_evaluate``, ``_set_wall``, ``_state``, ``_restore`` and ``_run_key``.
    """

    def __init__(self, problem: Problem, budget: str | Budget | None, steps: int | None,
                 device: str | torch.device | None, checkpoint: str | Path | None, progress: bool,
                 callback: Callable[[TrainingLoop, int], None] | None, adam: str = "torch"):
        set_threads()
        self.adam = choose("Adam form", adam, ADAM_FORMS)
        self.problem = problem
        self.budget = get_budget(budget)
        problem.check_batch_size(self.budget.batch_size)  # before any work, not at the first step
        self.steps = steps if steps is not None else self.budget.steps
        if not (is_whole(self.steps) and self.steps >= 1):
            raise ValueError(f"steps must be a whole number of at least 1, got {self.steps!r}")
        self.device = get_device(device)
        self.checkpoint = Path(checkpoint) if checkpoint else None
        if self.checkpoint and self.checkpoint.is_dir():
            raise ConfigError(f"the checkpoint {self.checkpoint} is a folder: name a file in it, e.g. "
                              f"{self.checkpoint / 'run.pt'}")
        self.progress, self.callback = progress, callback
        x, u, self.grid_shape = problem.evaluation_grid(self.budget.grid_size)
        self.x_eval, self.u_eval = x.float().to(self.device), u.float().to(self.device)
        self.step = 0
        self._interrupted = False

    def _setup_optimizer(self, params: list[torch.Tensor]) -> None:
        # The fused kernel updates all parameters in one call: 2-3x faster than foreach on a CPU.
        self.optimizer = torch.optim.Adam(params, lr=self.budget.lr, fused=True)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(
            self.optimizer, gamma=self.budget.decay_rate ** (1 / self.budget.decay_steps))

    def _adam_step(self) -> None:
        """One Adam step at the scheduled learning rate, then the schedule's step.

        PyTorch's Adam divides the bias-corrected moments, m_hat / (sqrt(v_hat) + eps). TensorFlow 1's
        (``adam="tf1"``) folds the corrections into the rate and adds eps to the uncorrected root:
        lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps). That is PyTorch's step with
        eps / sqrt(1 - beta2^t) in place of eps, which is how it is taken here. The two differ only
        while 1 - beta2^t is far from 1, in the first few thousand steps.
        """
        if self.adam == "tf1":
            t = self.step + 1  # Adam's own step count after this step
            for group in self.optimizer.param_groups:
                group["eps"] = ADAM_EPSILON / math.sqrt(1 - group["betas"][1] ** t)
        self.optimizer.step()
        self.scheduler.step()

    def _use_compile(self, compile: str, derivatives: str) -> bool:
        """Whether to compile: ``compile="on"``, or "auto" for runs of at least ``COMPILE_FROM_STEPS``.

        torch.compile costs tens of seconds up front and then makes a step several times faster
        on a CPU: worth it for long runs only. It takes the Taylor-mode path only; the reference
        path (nested autograd) and problems with nested autograd inside run eagerly.
        """
        choose("compile setting", compile, ("auto", "on", "off"))
        functional = derivatives == "auto" and self.problem.compilable
        if compile == "on" and not functional:
            raise ValueError("compile='on' compiles the Taylor-mode path; nested autograd (derivatives='autograd', "
                             f"or {self.problem.name}'s own loss) runs eagerly: use compile='auto' or 'off'")
        return functional and (compile == "on" or (compile == "auto" and self.steps >= COMPILE_FROM_STEPS))

    # -- checkpoints -----------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """Write the complete state atomically (a crash mid-write leaves the old file intact)."""
        checkpoints.save(self.checkpoint, {"run": self._run_key(), "step": self.step,
                                           "optimizer": self.optimizer.state_dict(),
                                           "scheduler": self.scheduler.state_dict(), **self._state()})

    def load_checkpoint(self) -> None:
        """Restore the state saved by ``save_checkpoint``; refuse a file of another run, or one that is not ours
        (a ``CheckpointError``, also when its state does not fit this run's network or optimiser)."""
        state = checkpoints.load(self.checkpoint, self._run_key(), self.device)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self._restore(state)
            step = state["step"]
            if not (is_whole(step) and 0 <= step <= self.steps):
                raise ValueError(f"its step {step!r} is not one from 0 to {self.steps}")
            self.step = step
        except (AttributeError, KeyError, RuntimeError, TypeError, ValueError, IndexError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise checkpoints.CheckpointError(
                f"checkpoint {self.checkpoint} does not fit this run ({type(error).__name__}: {reason}); "
                f"{checkpoints.START_OVER}") from None

    def _last_good_checkpoint(self) -> str:
        step = checkpoints.saved_step(self.checkpoint) if self.checkpoint and self.checkpoint.exists() else None
        return "no checkpoint was written" if step is None else \
            f"the last good checkpoint is {self.checkpoint} (step {step})"

    # -- the loop --------------------------------------------------------------------------
    def _on_interrupt(self, signum, frame) -> None:
        self._interrupted = True

    def _finished(self) -> bool:
        """Whether to stop before ``self.steps`` (an ensemble whose members have all failed)."""
        return False

    def _loop(self, resume: bool, description: str) -> None:
        # A run with a checkpoint holds its lock while it trains: a second process on the same run is refused.
        with checkpoints.run_lock(self.checkpoint) if self.checkpoint else contextlib.nullcontext():
            self._train(resume, description)

    def _train(self, resume: bool, description: str) -> None:
        if resume and self.checkpoint and self.checkpoint.exists():
            self.load_checkpoint()
        b = self.budget
        in_main = threading.current_thread() is threading.main_thread()
        # Ctrl-C, and SIGTERM (what an IDE's stop button, `kill` and schedulers send): finish the step, save, stop.
        previous = {s: signal.signal(s, self._on_interrupt) for s in STOP_SIGNALS} if in_main else {}
        start_wall = time.perf_counter() - self.wall_s
        bar = tqdm(total=self.steps, initial=self.step, disable=not self.progress, desc=description, unit="step")
        try:
            while self.step < self.steps and not self._finished():
                step, lr = self.step, self.scheduler.get_last_lr()[0]
                losses = self.train_step()
                last = step == self.steps - 1
                if step % b.log_every == 0 or last:
                    self._log(step, losses, lr)
                    bar.set_postfix(self._postfix(), refresh=False)
                self.step = step + 1
                if self.step % b.eval_every == 0 or last:
                    self._evaluate()
                if self.callback:  # before the checkpoint, so that it holds what the callback recorded
                    self.callback(self, self.step)
                self.wall_s = time.perf_counter() - start_wall
                if self.checkpoint and (self.step % b.checkpoint_every == 0 or last):
                    self.save_checkpoint()
                bar.update(1)
                if self._interrupted:
                    self._stop_interrupted()
        finally:
            bar.close()
            for stop, handler in previous.items():
                signal.signal(stop, handler)

    def _adam_key(self) -> dict:
        """The Adam form, for a run key: only when not the default, so that older checkpoints still match."""
        return {"adam": self.adam} if self.adam != "torch" else {}

    def _net_key(self, net: nn.Module) -> dict:
        """What a run key needs of the network beyond its class and its parameters' shapes: the gated network's
        variant and the input statistics it was built with, each only when not the default (so that older
        checkpoints still match). Both leave the shapes alike, so restoring the state would not notice them."""
        key = {}
        if getattr(net, "variant", "code") != "code":
            key["variant"] = net.variant
        scaling = [net.input_mean.tolist(), net.input_std.tolist()] if hasattr(net, "input_mean") else None
        exact = [torch.tensor(v, dtype=torch.float32).tolist() for v in self.problem.input_scaling()]
        if scaling is not None and scaling != exact:
            key["input_statistics"] = scaling
        return key

    def _stop_interrupted(self) -> None:
        if self.checkpoint:
            self.save_checkpoint()
            where = f"the state at step {self.step} is saved in {self.checkpoint}; run again with resume to continue"
        else:
            where = "no checkpoint path was given, so the progress is lost"
        raise KeyboardInterrupt(f"training interrupted: {where}")


class Trainer(TrainingLoop):
    """Trains ``net`` on ``problem`` under ``weighting`` for one budget.

    ``seed`` seeds the point samplers (build the network after seeding too; see
    ``methods.build``). ``steps`` overrides the budget's number of steps. ``callback(trainer,
    step)`` runs after every step, e.g. to record diagnostics. ``derivatives="autograd"`` forces
    the reference path (nested autograd) for the input derivatives instead of the networks'
    forward propagation; both give the same numbers to rounding. ``compile`` compiles the loss
    terms and their gradients into one graph (``compiled_step``) "on", "off", or for runs of at
    least ``COMPILE_FROM_STEPS`` steps ("auto"); the reference path is never compiled. ``adam``
    is where Adam adds its epsilon, PyTorch's form or TensorFlow 1's (see ``_adam_step``).
    """

    def __init__(self, problem: Problem, net: nn.Module, weighting: Weighting,
                 budget: str | Budget | None = None, seed: int = 0,
                 device: str | torch.device | None = None, steps: int | None = None,
                 checkpoint: str | Path | None = None, progress: bool = True,
                 callback: Callable[[Trainer, int], None] | None = None,
                 derivatives: Literal["auto", "autograd"] = "auto",
                 compile: Literal["auto", "on", "off"] = "auto", adam: Literal["torch", "tf1"] = "torch"):
        super().__init__(problem, budget, steps, device, checkpoint, progress, callback, adam)
        if set(weighting.terms) != set(problem.weighted_terms):
            raise ConfigError(f"the weighting holds weights for {sorted(weighting.terms)}, but {problem!r} weights "
                              f"{sorted(problem.weighted_terms)}: build it for this problem (methods.build(method, "
                              "problem), or a weighting of problem.weighted_terms)")
        self.weighting, self.seed = weighting, seed
        self.net = net.to(self.device)
        # The loss sees the network itself (fast Taylor-mode derivatives) or, on the reference
        # path, a plain function of it, for which the derivatives come from nested autograd.
        self.derivatives = choose("derivative method", derivatives, DERIVATIVE_METHODS)
        self.field = net if derivatives == "auto" else (lambda x: self.net(x))
        self.compiled = self._use_compile(compile, derivatives)
        self._compiled_step: CompiledStep | None = None
        self.generator = seed_everything(seed)
        self.params = [p for p in self.net.parameters() if p.requires_grad]
        self._setup_optimizer(self.params)
        self.history = History(losses={t: [] for t in problem.terms},
                               weights={t: [] for t in weighting.terms})
        self.wall_s = 0.0

    # -- evaluation ------------------------------------------------------------------------
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The network's prediction of the solution at points x (no gradients)."""
        with torch.no_grad():
            return self.problem.predict(self.net, x.float().to(self.device))

    def evaluate(self) -> float:
        """Relative L2 error of the prediction on the evaluation grid."""
        return relative_l2(self.predict(self.x_eval), self.u_eval)

    def _evaluate(self) -> None:
        self.history.eval_steps.append(self.step)
        self.history.rel_l2.append(self.evaluate())

    # -- one step --------------------------------------------------------------------------
    def _check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        values = torch.stack([v.detach() for v in losses.values()])
        if bool(torch.isfinite(values).all()):
            return
        bad = next(name for name, v in losses.items() if not torch.isfinite(v))
        self._raise_non_finite(f"loss term {bad!r} is {losses[bad].item()}")

    def _raise_non_finite(self, what: str) -> None:
        raise NonFiniteLossError(
            f"{what} at step {self.step}; {self._last_good_checkpoint()}. Try a smaller learning rate, a smaller "
            "weight, or check the problem's data for NaN.")

    def _eager_term_gradients(self, losses: dict[str, torch.Tensor]) -> dict[str, list[torch.Tensor]]:
        """dL_t/dtheta for each term t, one backward pass each through the eager graph."""
        names = list(self.problem.terms)
        grads = {}
        for k, name in enumerate(names):
            # The terms may share nodes of the graph: keep it until the last term's pass.
            g = torch.autograd.grad(losses[name], self.params, retain_graph=k < len(names) - 1, allow_unused=True)
            grads[name] = [torch.zeros_like(p) if gi is None else gi for gi, p in zip(g, self.params)]
        return grads

    def _compiled_term_gradients(self, batch: dict[str, torch.Tensor]) -> tuple[dict, dict] | None:
        """The losses and per-term gradients from the compiled graph, or None when the run does not compile
        (or compiling has failed)."""
        if not self.compiled:
            return None
        if self._compiled_step is None:
            loss_terms = LossTerms(self.problem, self.net)
            self._buffers = dict(loss_terms.named_buffers())
            # Views that share the parameters' memory, so that they see every optimiser step.
            self._param_views = {k: v.detach() for k, v in loss_terms.named_parameters() if v.requires_grad}
            self._compiled_step = CompiledStep(term_gradients(loss_terms), self.device, static=self._param_views)
        result = self._compiled_step(self._param_views, self._buffers, batch)
        if result is None:
            self.compiled = False
            return None
        losses = {t: value for t, (_, value) in result.items()}
        grads = {t: list(g.values()) for t, (g, _) in result.items()}
        return losses, grads

    def _update_weights(self, grads: dict[str, list[torch.Tensor]]) -> None:
        """Let the weighting read the per-term gradients of its statistic parameters."""
        position = {id(p): i for i, p in enumerate(self.params)}
        chosen = [position[id(p)] for p in self.weighting.statistic_parameters(self.net)]
        self.weighting.update([grads["residual"][i] for i in chosen],
                              {t: [grads[t][i] for i in chosen] for t in self.weighting.terms})
        bad = [t for t, w in self.weighting.weights.items() if not math.isfinite(w)]
        if bad:
            self._raise_non_finite(f"the weight of term {bad[0]!r} is {self.weighting.weights[bad[0]]}")

    def _set_gradients(self, grads: dict[str, list[torch.Tensor]]) -> None:
        """grad = g_r + sum_i lambda_i g_i."""
        total = grads["residual"]
        for t in self.weighting.terms:
            total = torch._foreach_add(total, grads[t], alpha=self.weighting.weights[t])
        for p, g in zip(self.params, total):
            p.grad = g

    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The unweighted loss terms on a batch (eager, differentiable)."""
        return self.problem.losses(self.field, batch)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One Adam step on a fresh batch; returns the unweighted loss terms before the step.

        On a step where the weighting updates, it reads the per-term gradients before the Adam
        step, or, with ``after_step``, those at the new parameters on the same batch.
        """
        batch = {k: v.to(self.device) for k, v in self.problem.sample(self.budget.batch_size, self.generator).items()}
        update = self.weighting.needs_gradients(self.step)
        before = update and not self.weighting.after_step
        compiled = self._compiled_term_gradients(batch)
        if compiled is not None:
            losses, grads = compiled
            self._check_finite(losses)
            if before:
                self._update_weights(grads)
            self._set_gradients(grads)
        else:
            losses = self.losses(batch)
            self._check_finite(losses)
            self.optimizer.zero_grad(set_to_none=True)
            if before:
                grads = self._eager_term_gradients(losses)
                self._update_weights(grads)
                self._set_gradients(grads)
            else:
                self.weighting.total_loss(losses).backward()
        self._adam_step()
        if update and not before:
            after = self._compiled_term_gradients(batch)
            self._update_weights(after[1] if after is not None else self._eager_term_gradients(self.losses(batch)))
        return {t: v.detach() for t, v in losses.items()}

    def _log(self, step: int, losses: dict[str, torch.Tensor], lr: float) -> None:
        h = self.history
        h.steps.append(step)
        for name, value in losses.items():
            h.losses[name].append(value.item())
        for name, value in self.weighting.weights.items():
            h.weights[name].append(value)
        h.lr.append(lr)

    def _postfix(self) -> dict[str, str]:
        return {t: f"{v[-1]:.2e}" for t, v in self.history.losses.items()}

    # -- checkpoints -----------------------------------------------------------------------
    def _run_key(self) -> dict:
        key = {"problem": repr(self.problem), "net": type(self.net).__name__, "weighting": repr(self.weighting),
               "budget": self.budget.name, "steps": self.steps, "seed": self.seed}
        return key | self._net_key(self.net) | self._adam_key()

    def _state(self) -> dict:
        self.history.wall_s = self.wall_s
        return {"net": self.net.state_dict(), "weighting": self.weighting.state_dict(),
                "generator": self.generator.get_state(), "history": self.history.to_dict()}

    def _restore(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.weighting.load_state_dict(state["weighting"])
        self.generator.set_state(state["generator"].cpu())
        self.history = History.from_dict(state["history"])
        self.wall_s = self.history.wall_s

    # -- the loop --------------------------------------------------------------------------
    def run(self, resume: bool = False) -> History:
        """Train to ``self.steps`` steps (continuing from the checkpoint if ``resume``) and return the history."""
        self._loop(resume, f"{self.problem.name} ({type(self.net).__name__})")
        self.history.wall_s = self.wall_s
        return self.history


def train(problem: Problem, net: nn.Module, weighting: Weighting, budget: str | Budget | None = None,
          seed: int = 0, **options) -> History:
    """Train ``net`` in place and return its ``History``; ``options`` go to ``Trainer``."""
    return Trainer(problem, net, weighting, budget=budget, seed=seed, **options).run()
