"""SOAP, a later optimiser: Adam run in the eigenbasis of Shampoo's preconditioner.

Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson & Kakade, "SOAP: improving and stabilizing
Shampoo using Adam" (arXiv:2409.11321, 2024), Algorithm 3. For a weight matrix W with gradient G,

    L <- beta2 L + (1 - beta2) G G^T,      R <- beta2 R + (1 - beta2) G^T G,
    Q_L, Q_R = the eigenvectors of L and of R (recomputed every ``precondition_frequency`` steps),
    G' = Q_L^T G Q_R,    Adam's moments of G' (M' rotated with the basis, V' of G'^2),
    W <- W - lr Q_L (M'_hat / (sqrt(V'_hat) + eps)) Q_R^T .

The first step only builds L, R and the basis and leaves W as it is. A vector parameter (a bias) is
stepped by Adam itself. In the basis of a constant gradient G = U S V^T the step is -lr U V^T, the
gradient with its singular values set to one, where Adam's is -lr sign(G): SOAP follows the gradient's
directions, not its entries.

Gradient alignment in PINNs (Wang, Bhartari, Li & Perdikaris, arXiv:2502.00604, 2025) argues that such a
second-order step resolves the conflicts between the terms' gradients that gradient surgery removes by
projection. Here SOAP replaces Adam and nothing else: the paper's learning rate and decay, Adam's betas
(0.9, 0.999) and epsilon, no weight decay (the Adam runs have none); the preconditioner's own settings
are the maintained implementation's (``pytorch_optimizer.SOAP``). Its preconditioner of a stacked
ensemble tensor would mix the members, so SOAP runs train one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def soap(params: Iterable[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """SOAP over ``params`` at learning rate ``lr``, with Adam's betas and epsilon and no weight decay."""
    from pytorch_optimizer import SOAP

    return SOAP(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
