"""The one grid of layer shapes that the unit tests share.

Each case is small (images <= 9 x 9, channels <= 3, n_b <= 4) so that the brute-force loops
of ``reference.py`` and convlib's naive loops stay fast. Together the cases cover: stride 1-4;
total padding even, odd, zero and negative (from the modes, from an int ``h_out`` and from an
``(h, w)`` pair, whose two axes may differ); explicit ``padding=(top, bottom, left, right)``,
asymmetric, negative, and leaving input rows that no window reads; rectangular images;
n_b 1-4; ch_in != ch_out; f 1-5. ``test_grid.py`` checks that this coverage really holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    n_b: int
    ch_in: int
    ch_out: int
    h_in: int
    w_in: int
    f: int
    s: int
    h_out: object = "valid"  # int, (h, w) or a mode; ignored when padding is given
    padding: tuple | None = None  # explicit (top, bottom, left, right)

    @property
    def id(self) -> str:
        how = f"pad{self.padding}" if self.padding is not None else f"h_out={self.h_out}"
        how = how.replace(" ", "")
        return (
            f"nb{self.n_b}-c{self.ch_in}to{self.ch_out}-{self.h_in}x{self.w_in}"
            f"-f{self.f}-s{self.s}-{how}"
        )

    @property
    def kwargs(self) -> dict:
        """Keyword arguments of conv_forward / conv_backward after ``q, W, b``."""
        if self.padding is not None:
            return {"s": self.s, "padding": self.padding}
        return {"s": self.s, "h_out": self.h_out}

    def arrays(self, dtype=np.float64, seed: int = 0):
        """Deterministic ``q, W, b`` and ``dz`` (``dz`` needs the output size, from eq. 7)."""
        from reference import geometry

        rng = np.random.default_rng([seed, *hash_key(self)])
        q = rng.standard_normal((self.n_b, self.ch_in, self.h_in, self.w_in))
        W = rng.standard_normal((self.ch_in, self.ch_out, self.f, self.f))
        b = rng.standard_normal(self.ch_out)
        (ho, wo), _ = geometry(self.h_in, self.w_in, self.f, self.s, self.h_out, self.padding)
        dz = rng.standard_normal((self.n_b, self.ch_out, ho, wo))
        return tuple(a.astype(dtype) for a in (q, W, b, dz))


def hash_key(case: Case) -> tuple:
    """A stable integer key per case (Python's hash() of strings changes between runs)."""
    return tuple(ord(c) for c in case.id)


CASES = [
    # the named modes: p = 0 (valid, f = 1, f = h_in), even, odd, and negative (valid with a
    # stride that does not divide h_in - f: eq. 7 then crops)
    Case(1, 1, 2, 5, 6, 1, 1, "valid"),
    Case(2, 2, 3, 6, 5, 3, 1, "valid"),
    Case(2, 2, 3, 4, 6, 4, 1, "valid"),
    Case(1, 2, 3, 6, 9, 5, 1, "valid"),
    Case(2, 3, 2, 7, 6, 3, 1, "same"),
    Case(1, 2, 1, 6, 7, 2, 1, "same"),
    Case(3, 2, 3, 5, 7, 4, 1, "same"),
    Case(2, 1, 3, 5, 4, 3, 1, "full"),
    Case(3, 1, 2, 4, 5, 2, 1, "full"),
    Case(2, 2, 3, 8, 7, 3, 2, "valid"),
    Case(1, 2, 3, 6, 9, 2, 3, "valid"),
    Case(1, 3, 2, 9, 8, 5, 2, "same"),
    Case(4, 1, 2, 7, 9, 3, 3, "same"),
    Case(2, 3, 1, 7, 8, 1, 3, "same"),
    Case(2, 2, 1, 9, 7, 4, 4, "full"),
    Case(2, 1, 2, 5, 6, 4, 2, "full"),
    # an explicit h_out (int) or (h, w): eq. 7 gives p, possibly different on each axis
    Case(2, 1, 2, 6, 6, 3, 1, 4),
    Case(2, 2, 3, 5, 7, 3, 2, 4),
    Case(3, 2, 1, 8, 6, 3, 2, 2),
    Case(1, 2, 1, 5, 5, 3, 4, 1),
    Case(1, 3, 2, 7, 5, 5, 1, (5, 4)),
    Case(2, 1, 3, 9, 8, 2, 4, (3, 2)),
    Case(4, 2, 1, 5, 6, 1, 2, (3, 2)),
    # explicit (top, bottom, left, right): symmetric, TF-'SAME'-like (extra pixel after),
    # rows left unread by the stride, negative entries (crops)
    Case(2, 2, 3, 7, 7, 3, 2, padding=(1, 1, 1, 1)),
    Case(1, 1, 2, 8, 6, 3, 2, padding=(0, 1, 1, 0)),
    Case(2, 2, 1, 8, 9, 3, 2, padding=(0, 0, 1, 1)),
    Case(1, 1, 3, 9, 7, 2, 3, padding=(1, 2, 0, 1)),
    Case(3, 1, 2, 9, 9, 5, 4, padding=(2, 2, 2, 1)),
    Case(2, 3, 2, 9, 8, 3, 2, padding=(-1, 2, 0, -1)),
    Case(4, 1, 2, 6, 5, 2, 1, padding=(0, 0, 0, 0)),
]

CASE_IDS = [c.id for c in CASES]

#: The cases with explicit padding (PyTorch/TensorFlow conventions).
EXPLICIT = [c for c in CASES if c.padding is not None]
