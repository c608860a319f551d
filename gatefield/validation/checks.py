"""A check of theory against simulation, and a report of several."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Check", "Report"]


@dataclass(frozen=True)
class Check:
    """One theory-vs-simulation comparison: passes when
    ``|simulation - theory| <= tolerance`` (or the stated rule in ``note``)."""

    quantity: str
    theory: float
    simulation: float
    tolerance: float
    passed: bool
    note: str = ""

    def to_json(self) -> dict:
        return {
            "quantity": self.quantity,
            "theory": self.theory,
            "simulation": self.simulation,
            "tolerance": self.tolerance,
            "pass": self.passed,
            "note": self.note,
        }

    def line(self) -> str:
        """The one-line form the command line prints."""
        mark = "PASS" if self.passed else "FAIL"
        return (
            f"[{mark}] {self.quantity}: theory {self.theory:.6g}, simulation {self.simulation:.6g}, "
            f"tolerance {self.tolerance:.3g}"
        )


class Report:
    """What every report has: its checks, and whether all passed."""

    checks: tuple

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)
