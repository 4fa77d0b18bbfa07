"""Error measures used to judge a trained network."""

from __future__ import annotations

import torch


def relative_l2(prediction: torch.Tensor, exact: torch.Tensor) -> float:
    """Relative L2 error ||prediction - exact||_2 / ||exact||_2 over all entries (Frobenius)."""
    if prediction.shape != exact.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and exact {tuple(exact.shape)} differ in shape")
    return float(torch.linalg.vector_norm(prediction - exact) / torch.linalg.vector_norm(exact))


def relative_spectral(prediction: torch.Tensor, exact: torch.Tensor) -> float:
    """||prediction - exact||_2 / ||exact||_2 with the matrix 2-norm (largest singular value).

    The original cavity code computes this (``np.linalg.norm(A, 2)`` of the 2-D grids) and
    calls it the relative L2 error; it is reported beside the Frobenius figure, labelled.
    """
    if prediction.dim() != 2 or prediction.shape != exact.shape:
        raise ValueError(f"need two matrices of one shape, got {tuple(prediction.shape)} and {tuple(exact.shape)}")
    return float(torch.linalg.matrix_norm(prediction - exact, ord=2) / torch.linalg.matrix_norm(exact, ord=2))
