"""The one training loop and its one step: Adam with the paper's decay, per-term logging, checkpoints.

Each step draws a fresh batch, evaluates the loss terms, lets the weighting adjust the
lambda_i when it asks to (Algorithm 1 every 10 steps), and takes one Adam step on
L = L_r + sum_i lambda_i L_i with learning rate  1e-3 * 0.9 ** (step / 1000).
A single run and a seed ensemble (``ensembles``) take the same step, ``TrainingLoop.train_step``.

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
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn
from tqdm.auto import tqdm

from .autodiff import DERIVATIVE_METHODS
from .config import (
    Budget,
    ConfigError,
    check_seed,
    choose,
    get_budget,
    get_device,
    is_finite,
    is_whole,
    sampler_generator,
    threads,
    weighting_generator,
)
from .metrics import relative_l2
from .networks import parameter_groups
from .problems import Problem
from .weighting import StepContext, Weighting

if TYPE_CHECKING:
    from .compiled_step import CompiledStep

# Runs of at least this many steps compile their loss terms when compile="auto".
COMPILE_FROM_STEPS = 10_000

# Where Adam adds its epsilon: PyTorch's form, or TensorFlow 1's, which the original code ran.
ADAM_FORMS = ("torch", "tf1")
# The optimiser: Adam, as the paper; or SOAP (``soap``), a later one, for single runs.
OPTIMIZERS = ("adam", "soap")
ADAM_EPSILON = 1e-8  # the default of both


def check_optimizer(optimizer: str, adam: str) -> str:
    """``optimizer`` if it is one of ``OPTIMIZERS`` and ``adam`` (a form of Adam's epsilon) applies to it; else a
    ConfigError naming the choices or the conflict."""
    choose("optimizer", optimizer, OPTIMIZERS)
    if optimizer != "adam" and adam != "torch":
        raise ConfigError(f"adam={adam!r} is a form of Adam's epsilon; the {optimizer} optimizer takes none")
    return optimizer


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
        """The history ``to_dict`` wrote; a ``TypeError`` or ``ValueError`` naming the entry that does not fit
        (``checkpoints.check_history``)."""
        from . import checkpoints

        return checkpoints.check_history(cls(**data))


# What stops a run as Ctrl-C does (finish the step, save, stop): Ctrl-C itself; SIGTERM, what an IDE's stop button,
# `kill` and schedulers send; SIGHUP, a closed terminal or a dropped ssh session (where the platform has it).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

class TrainingLoop:
    """The one step engine: every run is E members (a single run is one) trained in lockstep.

    Each step draws every member's fresh batch, evaluates the loss terms, checks that they are
    finite, lets each member's weighting update when it asks (``Weighting.updates_at``, before
    the Adam step or, with ``after_step``, after it on the same batch), and takes one Adam step
    on L = L_r + sum_i lambda_i L_i. It logs, evaluates, checkpoints and handles Ctrl-C.

    ``Trainer`` (one network) and ``ensembles.EnsembleTrainer`` (E networks stacked) supply only
    the arithmetic: how a batch is drawn, the losses and their per-term gradients (eager or
    compiled), the combined gradient, and a member's prediction. A member whose loss or weight
    goes non-finite stops a single run with ``NonFiniteLossError``; in an ensemble it is stopped
    alone and the others go on.
    """

    # Whether a non-finite loss or weight raises (one run) or stops only its member (an ensemble).
    stops_on_failure = True

    def __init__(self, problem: Problem, weightings: list[Weighting], seeds: list[int],
                 budget: str | Budget | None, steps: int | None, device: str | torch.device | None,
                 checkpoint: str | Path | None, progress: bool,
                 callback: Callable[[TrainingLoop, int], None] | None, adam: str, identity: dict | None,
                 optimizer: str = "adam"):
        self.adam = choose("Adam form", adam, ADAM_FORMS)
        self.optimizer_name = check_optimizer(optimizer, adam)
        self.problem = problem
        self.budget = get_budget(budget)
        problem.check_batch_size(self.budget.batch_size)  # before any work, not at the first step
        self.steps = steps if steps is not None else self.budget.steps
        if not (is_whole(self.steps) and self.steps >= 1):
            raise ValueError(f"steps must be a whole number of at least 1, got {self.steps!r}")
        for weighting in weightings:
            weighting.check(problem, self.budget.batch_size)
        self.weightings, self.seeds, self.size = list(weightings), list(seeds), len(weightings)
        self.identity = identity
        self.device = get_device(device)
        self.checkpoint = Path(checkpoint) if checkpoint else None
        if self.checkpoint and self.checkpoint.is_dir():
            raise ConfigError(f"the checkpoint {self.checkpoint} is a folder: name a file in it, e.g. "
                              f"{self.checkpoint / 'run.pt'}")
        self.progress, self.callback = progress, callback
        x, u, self.grid_shape = problem.evaluation_grid(self.budget.grid_size)
        self.x_eval, self.u_eval = x.float().to(self.device), u.float().to(self.device)
        self.weighting_generators = [weighting_generator(seed) for seed in self.seeds]
        self.histories = [History(losses={t: [] for t in problem.terms}, weights={t: [] for t in w.terms})
                          for w in self.weightings]
        self.active = [True] * self.size
        self.failures: dict[int, dict] = {}  # member -> {"seed", "weighting", "step", "what"}
        self.step = 0
        self.wall_s = 0.0
        self.threads: int | None = None  # the CPU threads the last run trained with (``config.threads``)
        self._interrupted = False

    def _parameter_names(self, net: nn.Module, prefix: str) -> list[list[str]]:
        """For each member, the names of the parameters whose gradients its weighting reads (its
        ``parameter_group``, which the network must declare)."""
        groups = parameter_groups(net)
        names = {id(p): prefix + name for name, p in net.named_parameters()}
        chosen = []
        for weighting in self.weightings:
            if weighting.parameter_group not in groups:
                raise ConfigError(f"{weighting!r} reads the gradients of the parameter group "
                                  f"{weighting.parameter_group!r}, which {type(net).__name__} does not declare "
                                  f"(it declares {', '.join(groups)}; see networks.parameter_groups)")
            chosen.append([names[id(p)] for p in groups[weighting.parameter_group]])
        return chosen

    # -- what a backend supplies -----------------------------------------------------------
    # nets (the members' modules); _trained (name -> the tensor Adam steps); generators (the members' samplers');
    # _stack(batches) -> batch; _point_squares(batch) -> set -> (E, N);
    # _losses_and_gradients(batch) -> (losses, gradients or None); _weighted_gradient(losses); _combine(gradients);
    # _set_gradients(combined); _member_slice(tensor, e); _kernel_diagonal_means(batch, names) -> term -> (E,);
    # _predict(e, x); _member_state(); _restore_members(state).

    def _weights_changed(self) -> None:
        """Called after the weights moved (a backend may cache them as tensors)."""

    # -- one step --------------------------------------------------------------------------
    def train_step(self) -> dict[str, torch.Tensor]:
        """One Adam step of every member on its own fresh batch; returns the unweighted loss terms before it.

        On a step where a member's weighting updates, it reads the context of this step before the
        Adam step, or, with ``after_step``, the context at the new parameters on the same batch.
        """
        batch = self._sample()
        if self.weightings[0].weighs_points:
            from .weighting.pointwise import weigh_points

            batch = weigh_points(self.weightings, batch, self._point_squares(batch), self._member_slice, self._stack)
        losses, gradients = self._losses_and_gradients(batch)
        self._check_finite(losses)
        updating = [e for e in range(self.size) if self.active[e] and self.weightings[e].updates_at(self.step)]
        before = [e for e in updating if not self.weightings[e].after_step]
        if before:
            gradients = self._update_weights(before, batch, losses, gradients)
        self._set_gradients(self._direction(losses, gradients))
        self._optimizer_step()
        after = [e for e in updating if self.weightings[e].after_step]
        if after:
            self._update_weights(after, batch, *self._losses_and_gradients(batch))
        return {t: v.detach() for t, v in losses.items()}

    def _sample(self) -> dict[str, torch.Tensor]:
        """Every member's batch, drawn by its weighting from its own generator (a fresh one, or from a pool)."""
        return self._stack([w.sample(self.problem, self.budget.batch_size, g)
                            for w, g in zip(self.weightings, self.generators)])

    def _update_weights(self, members: list[int], batch: dict[str, torch.Tensor], losses: dict[str, torch.Tensor],
                        gradients: dict | None) -> dict | None:
        """Each member in ``members`` updates its weights from its own slice of the step's context; returns the
        per-term gradients if a weighting asked for them (computed once for all members, as are the kernels)."""
        computed = {"gradients": gradients}
        kernels: dict[tuple[str, ...], dict[str, torch.Tensor]] = {}  # by parameter group, each computed once

        def all_gradients() -> dict:
            if computed["gradients"] is None:
                computed["gradients"] = self._term_gradients(losses)
            return computed["gradients"]

        values = {t: v.detach().reshape(-1).tolist() for t, v in losses.items()}
        for e in members:
            weighting, names = self.weightings[e], self._statistic_names[e]

            def member_gradients(e: int = e, names: list[str] = names, weighting: Weighting = weighting) -> dict:
                grads = all_gradients()
                return {t: [self._member_slice(grads[t][n], e) for n in names] for t in ("residual", *weighting.terms)}

            def member_kernel(e: int = e, names: list[str] = names) -> dict[str, float]:
                if tuple(names) not in kernels:
                    kernels[tuple(names)] = self._kernel_diagonal_means(batch, names)
                return {t: float(m[e]) for t, m in kernels[tuple(names)].items()}

            weighting.update(StepContext(self.step, {t: v[e] for t, v in values.items()}, member_gradients,
                                         self.weighting_generators[e], member_kernel))
            bad = [t for t, w in weighting.weights.items() if not math.isfinite(w)]
            if bad:
                self._fail(e, f"the weight of term {bad[0]!r} is {weighting.weights[bad[0]]}")
        self._weights_changed()
        return computed["gradients"]

    def _direction(self, losses: dict[str, torch.Tensor], gradients: dict | None) -> dict[str, torch.Tensor]:
        """Every member's step direction: g_r + sum_i lambda_i g_i, or its weighting's own ``combine`` of the terms'
        gradients for a scheme that ``combines`` (gradient surgery), which then needs them at every step."""
        surgeons = [e for e in range(self.size) if self.active[e] and self.weightings[e].combines]
        if not surgeons:
            return self._combine(gradients) if gradients is not None else self._weighted_gradient(losses)
        if gradients is None:
            gradients = self._term_gradients(losses)
        combined = self._combine(gradients)
        for e in surgeons:
            weighting = self.weightings[e]
            direction = weighting.combine({t: [self._member_slice(gradients[t][n], e) for n in self._trained]
                                           for t in ("residual", *weighting.terms)})
            for name, d in zip(self._trained, direction):
                self._member_slice(combined[name], e).copy_(d)
        return combined

    def _gradient(self, loss: torch.Tensor, retain_graph: bool = False) -> dict[str, torch.Tensor]:
        """d loss / d theta for every trained tensor, by name; zero for one the loss does not reach (u_xx and the
        output bias). For a sum over an ensemble's members, slice e is member e's own gradient."""
        g = torch.autograd.grad(loss, list(self._trained.values()), retain_graph=retain_graph, allow_unused=True)
        return {n: torch.zeros_like(p) if gi is None else gi for (n, p), gi in zip(self._trained.items(), g)}

    def _term_gradients(self, losses: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
        """dL_t/dtheta for each term t, one backward pass each (of the sum over the members, which gives each
        member's own gradient); the terms may share nodes of the graph, so it is kept until the last term's pass."""
        terms = self.problem.terms
        return {t: self._gradient(losses[t].sum(), retain_graph=k < len(terms) - 1) for k, t in enumerate(terms)}

    def _check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        values = torch.stack([losses[t].detach().reshape(-1) for t in self.problem.terms])  # (terms, E)
        finite = torch.isfinite(values)
        if bool(finite.all()):
            return
        for e in range(self.size):
            if self.active[e] and not bool(finite[:, e].all()):
                k = int((~finite[:, e]).nonzero()[0])
                self._fail(e, f"loss term {self.problem.terms[k]!r} is {values[k, e].item()}")

    def _fail(self, member: int, what: str) -> None:
        """A member's loss or weight went non-finite: raise (one run), or stop the member alone (an ensemble)."""
        if self.stops_on_failure:
            raise NonFiniteLossError(
                f"{what} at step {self.step}; {self._last_good_checkpoint()}. Try a smaller learning rate, a "
                "smaller weight, or check the problem's data for NaN.")
        self.active = [a and e != member for e, a in enumerate(self.active)]
        self.failures[member] = {"seed": self.seeds[member], "weighting": repr(self.weightings[member]),
                                 "step": self.step, "what": what}
        warnings.warn(f"ensemble member {member} (seed {self.seeds[member]}): {what} at step {self.step}; "
                      "stopped, the other members go on", RuntimeWarning, stacklevel=3)

    def _finished(self) -> bool:
        """Whether to stop before ``self.steps``: every member has failed."""
        return not any(self.active)

    # -- the optimiser ---------------------------------------------------------------------
    def _setup_optimizer(self, params: list[torch.Tensor]) -> None:
        if self.optimizer_name == "soap":
            from .soap import soap

            self.optimizer = soap(params, self.budget.lr)
        else:  # the fused kernel updates all parameters in one call: 2-3x faster than foreach on a CPU
            self.optimizer = torch.optim.Adam(params, lr=self.budget.lr, fused=True)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(
            self.optimizer, gamma=self.budget.decay_rate ** (1 / self.budget.decay_steps))

    def _optimizer_step(self) -> None:
        """One step of the optimiser (Adam, or SOAP) at the scheduled learning rate, then the schedule's step.

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

    # -- logging and evaluation ------------------------------------------------------------
    def _log(self, step: int, losses: dict[str, torch.Tensor], lr: float) -> None:
        values = {t: v.reshape(-1).tolist() for t, v in losses.items()}
        for e, (history, weighting) in enumerate(zip(self.histories, self.weightings)):
            if not self.active[e]:
                continue
            history.steps.append(step)
            for name in losses:
                history.losses[name].append(values[name][e])
            for name, value in weighting.weights.items():
                history.weights[name].append(value)
            history.lr.append(lr)

    def _postfix(self) -> dict[str, str]:
        if self.size == 1:
            return {t: f"{v[-1]:.2e}" for t, v in self.histories[0].losses.items()}
        running = [h.losses["residual"][-1] for h, a in zip(self.histories, self.active) if a and h.steps]
        postfix = {"members": f"{sum(self.active)}/{self.size}"}
        if running:
            postfix["residual"] = f"{min(running):.1e}..{max(running):.1e}"
        return postfix

    def _evaluate(self) -> None:
        for e, history in enumerate(self.histories):
            if self.active[e]:
                history.eval_steps.append(self.step)
                history.rel_l2.append(relative_l2(self._predict(e, self.x_eval), self.u_eval))

    # -- checkpoints -----------------------------------------------------------------------
    def _run_key(self) -> dict:
        """What tells this run apart from another: a checkpoint of another run is refused."""
        from . import checkpoints

        net = self.nets[0]  # the members share one architecture
        key = {"problem": repr(self.problem), "net": type(net).__name__, "layers": list(getattr(net, "layers", [])),
               **checkpoints.input_statistics_key(net, self.problem), "weightings": [repr(w) for w in self.weightings],
               "budget": self.budget.name, "steps": self.steps, "seeds": self.seeds}
        if self.adam != "torch":
            key["adam"] = self.adam
        if self.optimizer_name != "adam":
            key["optimizer"] = self.optimizer_name
        return key | ({"identity": self.identity} if self.identity is not None else {})

    def _state(self) -> dict:
        for history in self.histories:
            history.wall_s = self.wall_s
        return {**self._member_state(), "weightings": [w.state_dict() for w in self.weightings],
                "weighting_generators": [g.get_state() for g in self.weighting_generators],
                "histories": [h.to_dict() for h in self.histories], "active": list(self.active),
                "failures": {str(e): f for e, f in self.failures.items()}, "wall_s": self.wall_s}

    def _restore(self, state: dict) -> None:
        for name in ("weightings", "weighting_generators", "histories", "active"):
            if not isinstance(state[name], list) or len(state[name]) != self.size:
                raise ValueError(f"its {name} are not one per member of {self.size}")
        self._restore_members(state)
        for w, s in zip(self.weightings, state["weightings"]):
            w.load_state_dict(s)
        for g, s in zip(self.weighting_generators, state["weighting_generators"]):
            g.set_state(s.cpu())
        self.histories = [History.from_dict(h) for h in state["histories"]]
        self.active = list(state["active"])
        self.failures = {int(e): f for e, f in state["failures"].items()}
        wall_s = state["wall_s"]
        if not (is_finite(wall_s) and wall_s >= 0):
            raise ValueError(f"its wall_s is {wall_s!r}, not a time in seconds")
        self.wall_s = wall_s
        self._weights_changed()

    # `checkpoints` and `compiled_step` are imported where they are used: a run that neither saves nor compiles, the
    # one a student reads first, loads only the modules of its own step.
    def save_checkpoint(self) -> None:
        """Write the complete state atomically (a crash mid-write leaves the old file intact)."""
        from . import checkpoints

        checkpoints.save(self.checkpoint, {"run": self._run_key(), "step": self.step,
                                           "optimizer": self.optimizer.state_dict(),
                                           "scheduler": self.scheduler.state_dict(), **self._state()})

    def load_checkpoint(self) -> None:
        """Restore the state saved by ``save_checkpoint``; refuse a file of another run, or one that is not ours
        (a ``CheckpointError``, also when its state does not fit this run's network or optimiser)."""
        from . import checkpoints

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
        from . import checkpoints

        step = checkpoints.saved_step(self.checkpoint) if self.checkpoint and self.checkpoint.exists() else None
        return "no checkpoint was written" if step is None else \
            f"the last good checkpoint is {self.checkpoint} (step {step})"

    # -- the loop --------------------------------------------------------------------------
    def _on_interrupt(self, signum, frame) -> None:
        self._interrupted = True

    def _loop(self, resume: bool, description: str) -> None:
        # A run with a checkpoint holds its lock while it trains: a second process on the same run is refused.
        # The thread count is the run's while it trains, and the process's again after.
        lock = contextlib.nullcontext()
        if self.checkpoint:
            from . import checkpoints

            lock = checkpoints.run_lock(self.checkpoint)
        with lock, threads() as self.threads:
            self._train(resume, description)
        for history in self.histories:
            history.wall_s = self.wall_s

    def _train(self, resume: bool, description: str) -> None:
        if resume and self.checkpoint and self.checkpoint.exists():
            self.load_checkpoint()
        b = self.budget
        in_main = threading.current_thread() is threading.main_thread()
        # Ctrl-C, SIGTERM and SIGHUP (STOP_SIGNALS): finish the step, save, stop.
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

    def _stop_interrupted(self) -> None:
        if self.checkpoint:
            self.save_checkpoint()
            where = f"the state at step {self.step} is saved in {self.checkpoint}; run again with resume to continue"
        else:
            where = "no checkpoint path was given, so the progress is lost"
        raise KeyboardInterrupt(f"training interrupted: {where}")


class Trainer(TrainingLoop):
    """Trains ``net`` on ``problem`` under ``weighting`` for one budget: the step engine with one member.

    ``seed`` seeds the point samplers and the weighting's own generator (build the network
    seeded too; see ``methods.build``). ``steps`` overrides the budget's number of steps.
    ``callback(trainer, step)`` runs after every step, e.g. to record diagnostics.
    ``derivatives="autograd"`` forces the reference path (nested autograd) for the input
    derivatives instead of the networks' forward propagation; both give the same numbers to
    rounding. ``compile`` compiles the loss terms and their gradients into one graph
    (``compiled_step``) "on", "off", or for runs of at least ``COMPILE_FROM_STEPS`` steps
    ("auto"); the reference path is never compiled. ``adam`` is where Adam adds its epsilon,
    PyTorch's form or TensorFlow 1's (see ``_optimizer_step``); ``optimizer`` is Adam, or SOAP
    (``soap``), which only a single run takes. ``identity`` (a JSON-able dict, e.g. the run spec's)
    joins the checkpoint's run key. Constructing a trainer changes no global
    state: the thread count is set while ``run`` trains (``config.threads``).
    """

    def __init__(self, problem: Problem, net: nn.Module, weighting: Weighting,
                 budget: str | Budget | None = None, seed: int = 0,
                 device: str | torch.device | None = None, steps: int | None = None,
                 checkpoint: str | Path | None = None, progress: bool = True,
                 callback: Callable[[Trainer, int], None] | None = None,
                 derivatives: Literal["auto", "autograd"] = "auto",
                 compile: Literal["auto", "on", "off"] = "auto", adam: Literal["torch", "tf1"] = "torch",
                 identity: dict | None = None, optimizer: Literal["adam", "soap"] = "adam"):
        super().__init__(problem, [weighting], [check_seed(seed)], budget, steps, device, checkpoint, progress,
                         callback, adam, identity, optimizer)
        self.seed = seed
        self.net = net.to(self.device)
        # The loss sees the network itself (fast Taylor-mode derivatives) or, on the reference
        # path, a plain function of it, for which the derivatives come from nested autograd.
        self.derivatives = choose("derivative method", derivatives, DERIVATIVE_METHODS)
        self.field = net if derivatives == "auto" else (lambda x: self.net(x))
        if weighting.reads_tangent_kernel and (derivatives != "auto" or not problem.compilable):
            raise ConfigError(f"{weighting.label} maps the loss with torch.func, which nested autograd "
                              f"({'derivatives=autograd' if derivatives != 'auto' else problem.name + ' loss'}) "
                              "does not allow: use derivatives='auto' on a problem whose loss compiles")
        self.compiled = self._use_compile(compile, derivatives)
        self._compiled_step: CompiledStep | None = None
        self.generators = [sampler_generator(seed)]
        self._trained = {f"net.{name}": p for name, p in self.net.named_parameters() if p.requires_grad}
        self.params = list(self._trained.values())
        self._statistic_names = self._parameter_names(self.net, "net.")
        self._setup_optimizer(self.params)

    @property
    def weighting(self) -> Weighting:
        return self.weightings[0]

    @weighting.setter
    def weighting(self, weighting: Weighting) -> None:
        self.weightings[0] = weighting

    @property
    def history(self) -> History:
        return self.histories[0]

    @property
    def nets(self) -> list[nn.Module]:
        """The one member's network, as an ensemble lists its members'."""
        return [self.net]

    # -- evaluation ------------------------------------------------------------------------
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The network's prediction of the solution at points x (no gradients)."""
        with torch.no_grad():
            return self.problem.predict(self.net, x.float().to(self.device))

    def evaluate(self) -> float:
        """Relative L2 error of the prediction on the evaluation grid."""
        return relative_l2(self.predict(self.x_eval), self.u_eval)

    def _predict(self, e: int, x: torch.Tensor) -> torch.Tensor:
        return self.predict(x)

    # -- the arithmetic of one network -----------------------------------------------------
    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The unweighted loss terms on a batch (eager, differentiable)."""
        return self.problem.losses(self.field, batch)

    def _stack(self, batches: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {k: v.to(self.device) for k, v in batches[0].items()}

    def _point_squares(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        from .weighting.pointwise import point_squares

        with torch.set_grad_enabled(self.derivatives == "autograd"):  # nested autograd needs the graph of u
            return {s: q.detach() for s, q in point_squares(self.problem, self.field, batch).items()}

    def _losses_and_gradients(self, batch: dict[str, torch.Tensor]) -> tuple[dict, dict | None]:
        """The losses, with their per-term gradients when the compiled graph gives them (None when the run does not
        compile, or compiling has failed: the eager losses then, differentiable)."""
        if self.compiled:
            if self._compiled_step is None:
                from .compiled_step import CompiledStep, LossTerms, term_gradients

                loss_terms = LossTerms(self.problem, self.net)
                self._buffers = dict(loss_terms.named_buffers())
                # Views that share the parameters' memory, so that they see every optimiser step.
                self._param_views = {k: v.detach() for k, v in loss_terms.named_parameters() if v.requires_grad}
                self._compiled_step = CompiledStep(term_gradients(loss_terms), self.device, static=self._param_views)
            result = self._compiled_step(self._param_views, self._buffers, batch)
            if result is not None:
                return {t: value for t, (_, value) in result.items()}, {t: g for t, (g, _) in result.items()}
            self.compiled = False
        return self.losses(batch), None

    def _weighted_gradient(self, losses: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One backward pass of L = L_r + sum_i lambda_i L_i."""
        return self._gradient(self.weighting.total_loss(losses))

    def _combine(self, grads: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """grad = g_r + sum_i lambda_i g_i."""
        total = list(grads["residual"].values())
        for t in self.weighting.terms:
            total = torch._foreach_add(total, list(grads[t].values()), alpha=self.weighting.weights[t])
        return dict(zip(self._trained, total))

    def _set_gradients(self, combined: dict[str, torch.Tensor]) -> None:
        for name, p in self._trained.items():
            p.grad = combined[name]

    def _member_slice(self, tensor: torch.Tensor, e: int) -> torch.Tensor:
        return tensor

    def _kernel_diagonal_means(self, batch: dict[str, torch.Tensor], names: list[str]) -> dict[str, torch.Tensor]:
        from .tangent_kernel import members_diagonal_means

        buffers = {f"net.{name}": b for name, b in self.net.named_buffers()}
        return members_diagonal_means(self.problem, self.net, self._trained, buffers, batch, names)

    # -- checkpoints -----------------------------------------------------------------------
    def _member_state(self) -> dict:
        return {"net": self.net.state_dict(), "generator": self.generators[0].get_state()}

    def _restore_members(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.generators[0].set_state(state["generator"].cpu())

    # -- the loop --------------------------------------------------------------------------
    def run(self, resume: bool = False) -> History:
        """Train to ``self.steps`` steps (continuing from the checkpoint if ``resume``) and return the history."""
        self._loop(resume, f"{self.problem.name} ({type(self.net).__name__})")
        return self.history


def train(problem: Problem, net: nn.Module, weighting: Weighting, budget: str | Budget | None = None,
          seed: int = 0, **options) -> History:
    """Train ``net`` in place and return its ``History``; ``options`` go to ``Trainer``."""
    return Trainer(problem, net, weighting, budget=budget, seed=seed, **options).run()
