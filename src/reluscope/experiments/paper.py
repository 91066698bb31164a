"""The papers' published numbers that the reproduction is compared with, in one place.

Table 1 of Serra & Ramalingam (AAAI 2020, seeds/001), and the LEO results of Serra,
Kumar & Ramalingam (CPAIOR 2020) on 2-hidden-layer MNIST networks as given in
REFERENCE.md section 6. Every sentence of the report that quotes a paper takes its
numbers from here, so two places cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Table 1 (AAAI 2020): gap (%) closed by the Empirical UB, by n1 (n2 = 22 - n1)
PAPER_TABLE1: dict[int, float] = {
    1: 73.1, 2: 17.8, 3: 10.4, 4: 3.1, 5: 3.9, 6: 2.0, 7: 1.1, 8: 0.0, 9: 0.0, 10: 1.0,
    11: 0.0, 12: 0.0, 13: 0.1, 14: 0.2, 15: 0.5, 16: 1.0, 17: 1.8, 18: 3.4, 19: 9.5,
    20: 44.5, 21: 98.3,
}
#: hidden units of the AAAI networks, split as n1 + n2 (Table 1's rows)
PAPER_HIDDEN_UNITS = 22
#: section 6: "we define a DNN with eta < 12 as small and large otherwise", where
#: eta = log2 N (MAPS, section 1) and N is the number of linear regions
PAPER_SMALL_ETA = 12
#: the paper's own words on the sign of Figure 3's correlation (section 7)
PAPER_FIG3_SIGN_QUOTE = ("the weakest approximation still preserves a negative correlation "
                         "with accuracy")
#: Figure 3's caption (the figure itself is not in the sources: only its caption)
PAPER_FIG3_CAPTION = ("Regression on network accuracy for exact and approximated count [...] "
                      "As the XOR size increases, these regressions become more parallel")
#: the paper's claim on speed (section 7)
PAPER_SPEED_QUOTE = ("orders of magnitude faster than exact counting on networks with a "
                     "large number of linear regions")


@dataclass(frozen=True)
class LEOClaims:
    """What the CPAIOR 2020 paper reports for L1-trained ``n;n;10`` MNIST networks."""

    #: units removed (%) with L1, at the smallest and the largest width
    removed_percent: tuple[float, float] = (22.0, 31.0)
    widths: tuple[int, int] = (25, 100)
    #: test accuracy range (%) of those networks
    accuracy_percent: tuple[float, float] = (95.8, 97.1)
    #: the small-L1 point: width, L1, units removed (%), accuracy (%), unregularised acc.
    small_l1: tuple[int, float, float, float, float] = (100, 1e-4, 15.0, 98.1, 98.0)
    #: units removed without L1 (%)
    without_l1_percent: float = 0.0

    def sentence(self) -> str:
        """One sentence quoting the paper, used wherever the report cites it."""
        (lo, hi), (w_lo, w_hi) = self.removed_percent, self.widths
        (a_lo, a_hi) = self.accuracy_percent
        width, l1, removed, acc, plain = self.small_l1
        return (f"{lo:.0f}% (width {w_lo}) to {hi:.0f}% (width {w_hi}) of the units removed "
                f"at {a_lo}-{a_hi}% test accuracy with L1; with a small L1 ({l1:g}, width "
                f"{width}) {removed:.0f}% at {acc}%, above the unregularised {plain}%; "
                f"{self.without_l1_percent:.0f}% without L1")

    def beside(self, width: int, l1: float) -> str:
        """The paper's units removed for a (width, L1) row of our table: its number for
        that width (the L1 it used there is not in our sources), else its range."""
        if not l1:
            return f"{self.without_l1_percent:.0f}%"
        small_width, small_l1, removed, acc, _ = self.small_l1
        if width == small_width and l1 == small_l1:
            return f"{removed:.0f}% at {acc}%"
        for w, value in zip(self.widths, self.removed_percent, strict=True):
            if width == w:
                return f"{value:.0f}%"
        lo, hi = self.removed_percent
        return f"{lo:.0f}-{hi:.0f}%"


PAPER_LEO = LEOClaims()

__all__ = [
    "PAPER_FIG3_CAPTION",
    "PAPER_FIG3_SIGN_QUOTE",
    "PAPER_HIDDEN_UNITS",
    "PAPER_LEO",
    "PAPER_SMALL_ETA",
    "PAPER_SPEED_QUOTE",
    "PAPER_TABLE1",
    "LEOClaims",
]
