"""The step's loss terms and their gradients as one pure function of the parameters, compiled.

For each loss term t the function returns L_t and dL_t/dtheta (``torch.func.grad_and_value``
over ``functional_call``): the backward pass is part of the function, so ``torch.compile``
turns a whole step's arithmetic into one graph and nothing is differentiated twice through a
compiled graph. The terms see disjoint points, so their gradients together cost what the
gradient of the weighted sum costs, and Algorithm 1 reads the step's own gradients for free.

For an ensemble the same function is mapped over stacked parameters and batches with
``torch.func.vmap``: E members' matrix products become E-batched products in one graph.

On a CUDA device the graph is also captured as a CUDA graph (``mode="reduce-overhead"``), so a
step is one launch instead of a string of small kernel launches.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from .problems import Problem

Params = dict[str, torch.Tensor]
Batch = dict[str, torch.Tensor]
TermGradients = dict[str, tuple[Params, torch.Tensor]]  # term -> (dL_t/dtheta by name, L_t)


class LossTerms(nn.Module):
    """``problem.losses(net, batch)`` as a module, so that ``torch.func`` can call it with given parameters.

    Its parameter and buffer names are the network's, prefixed ``net.``.
    """

    def __init__(self, problem: Problem, net: nn.Module):
        super().__init__()
        self.problem, self.net = problem, net

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return self.problem.losses(self.net, batch)


def term_gradients(loss_terms: LossTerms) -> Callable[[Params, Params, Batch], TermGradients]:
    """The function (params, buffers, batch) -> {t: (dL_t/dtheta, L_t)} for every loss term t."""
    terms = loss_terms.problem.terms

    def gradients(params: Params, buffers: Params, batch: Batch) -> TermGradients:
        result = {}
        for term in terms:
            def term_loss(p: Params, term: str = term) -> torch.Tensor:
                return functional_call(loss_terms, (p, buffers), (batch,))[term]
            result[term] = grad_and_value(term_loss)(params)
        return result

    return gradients


def ensemble_term_gradients(loss_terms: LossTerms) -> Callable[[Params, Params, Batch], TermGradients]:
    """``term_gradients`` mapped over a leading member axis of the parameters, buffers and batch."""
    return vmap(term_gradients(loss_terms))


class CompiledStep:
    """``function`` compiled on its first call; if compiling fails, a warning and ``None`` from then on.

    ``static`` names the inputs whose memory stays put between calls (the parameters).

    The caller then takes its eager path. Only the first (compiling) call may fall back: a later
    error is a real one and propagates.
    """

    def __init__(self, function: Callable[..., TermGradients], device: torch.device,
                 static: Params | None = None):
        # On a GPU a step of these small networks is bound by kernel launches: capture it as a CUDA graph.
        mode = "reduce-overhead" if device.type == "cuda" else None
        self.cuda = device.type == "cuda"
        if self.cuda:
            # ``static``: inputs that keep their memory from step to step (the parameters, updated in
            # place), so that the CUDA graph reads them where they are instead of copying them in.
            for tensor in (static or {}).values():
                torch._dynamo.mark_static_address(tensor)
        self.compiled = torch.compile(function, fullgraph=True, dynamic=False, mode=mode)
        self.failed = False
        self._called = False

    def __call__(self, *args) -> TermGradients | None:
        if self.failed:
            return None
        if self.cuda:  # the outputs of the previous replay are consumed: let the graph reuse their memory
            torch.compiler.cudagraph_mark_step_begin()
        if self._called:
            return self.compiled(*args)
        try:
            result = self.compiled(*args)
        except Exception as error:  # noqa: BLE001 - any compiler failure means "train eagerly"
            warnings.warn(f"torch.compile failed ({type(error).__name__}: {error}); training eagerly",
                          RuntimeWarning, stacklevel=3)
            self.failed = True
            return None
        self._called = True
        return result
