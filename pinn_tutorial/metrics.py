"""Error measures used to judge a trained network."""

from __future__ import annotations

import torch


def relative_l2(prediction: torch.Tensor, exact: torch.Tensor) -> float:
    """Relative L2 error ||prediction - exact||_2 / ||exact||_2 over all entries (Frobenius)."""
    if prediction.shape != exact.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and exact {tuple(exact.shape)} differ in shape")
    return float(torch.linalg.vector_norm(prediction - exact) / torch.linalg.vector_norm(exact))
