"""Uniform random points in a box, on one of its faces, or on a time slice; or fixed points.

The paper draws a fresh batch of points for every loss term at every step
(``np.random.rand`` in the original code); so do these samplers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class BoxSampler:
    """Uniform points in the box [low_0, high_0] x ... x [low_{d-1}, high_{d-1}].

    A coordinate whose low and high are equal is held fixed, so an edge of a square, or the
    slice t = 0 of a space-time box, is a BoxSampler too.
    """

    def __init__(self, low: Sequence[float], high: Sequence[float]):
        if len(low) != len(high):
            raise ValueError(f"low and high differ in length: {len(low)} and {len(high)}")
        if any(hi < lo for lo, hi in zip(low, high)):
            raise ValueError(f"every high must be at least its low: low={list(low)}, high={list(high)}")
        self.low = torch.tensor(low, dtype=torch.float64)
        self.high = torch.tensor(high, dtype=torch.float64)

    @property
    def dim(self) -> int:
        return len(self.low)

    def sample(self, n: int, generator: torch.Generator | None = None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``n`` points of shape (n, dim), drawn on the CPU so runs repeat across devices."""
        u = torch.rand(n, self.dim, generator=generator, dtype=torch.float64)
        return (self.low + (self.high - self.low) * u).to(dtype)

    def __repr__(self) -> str:
        return f"BoxSampler(low={self.low.tolist()}, high={self.high.tolist()})"


def box_edges(low: Sequence[float], high: Sequence[float]) -> dict[str, BoxSampler]:
    """Samplers for the four edges of a rectangle, named ``bottom``, ``right``, ``top``, ``left``."""
    (x0, y0), (x1, y1) = low, high
    return {
        "bottom": BoxSampler([x0, y0], [x1, y0]),
        "right": BoxSampler([x1, y0], [x1, y1]),
        "top": BoxSampler([x0, y1], [x1, y1]),
        "left": BoxSampler([x0, y0], [x0, y1]),
    }


def grid(low: Sequence[float], high: Sequence[float], n: int) -> tuple[torch.Tensor, list[int]]:
    """An n x ... x n ``linspace`` grid over the box, flattened to shape (n**d, d), with its shape.

    The first coordinate varies slowest (``indexing="ij"``), so ``u.reshape(shape)`` is
    indexed ``[i_0, i_1, ...]``.
    """
    axes = [torch.linspace(lo, hi, n, dtype=torch.float64) for lo, hi in zip(low, high)]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=1), [n] * len(axes)


class FixedPoints:
    """The same points at every draw, such as the two ends of an interval: no random number is drawn."""

    def __init__(self, points: torch.Tensor):
        self.points = points

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """The points themselves (a copy), whatever ``n``."""
        return self.points.clone()

    def __repr__(self) -> str:
        return f"FixedPoints({self.points.tolist()})"
