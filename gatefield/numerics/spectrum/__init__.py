"""The spectral engine: every spectral quantity is a function of a
:class:`SiteDistribution`.

- :mod:`.sites`: the site distribution and its three routes
  (:func:`from_fixed_point`, :func:`from_snapshot`, :func:`from_dmft`);
- :mod:`.support`: the support ``rho(M(lam)) >= 1``, its radius and edge;
- :mod:`.whiskers`: the units' own eigenvalues outside the bulk, and the
  finite-N edge prediction; :mod:`.spill`: the share of a finite network's
  eigenvalues past the support;
- :mod:`.observables`: the resolvent, the density and shares of eigenvalues
  in discs and annuli (the cavity equations, :mod:`.cavity`);
- :mod:`.slow_modes`, :mod:`.atoms`, :mod:`.potential`: slow modes and
  marginal stability, point masses, marginals and the log-potential.
"""

from .atoms import Atom, site_atoms, step_gate_atoms
from .observables import (
    CavitySolution,
    ResolventGrid,
    density,
    resolvent,
    resolvent_grid,
    share_in_annulus,
    share_inside,
)
from .potential import Marginals, log_potential, marginals
from .sites import (
    ROUTES,
    Provenance,
    SiteDistribution,
    from_dmft,
    from_fixed_point,
    from_samples,
    from_snapshot,
)
from .slow_modes import (
    AccumulationLaw,
    accumulation_law,
    edge_gap,
    marginal_window,
    slow_mode_fraction,
    slow_mode_rule,
    slow_point,
)
from .spill import Spill, edge_spill
from .support import Support, inside_support, support_rho, support_values, trace_support, unit_eigenvalues
from .views import MomentView, PencilView, SiteRule
from .whiskers import EdgePrediction, Whisker, edge_prediction, radius_scatter, whiskers, widened

__all__ = [
    "SiteDistribution",
    "Provenance",
    "ROUTES",
    "SiteRule",
    "PencilView",
    "MomentView",
    "from_fixed_point",
    "from_samples",
    "from_snapshot",
    "from_dmft",
    "Support",
    "trace_support",
    "support_values",
    "support_rho",
    "inside_support",
    "unit_eigenvalues",
    "Whisker",
    "whiskers",
    "EdgePrediction",
    "edge_prediction",
    "radius_scatter",
    "widened",
    "CavitySolution",
    "ResolventGrid",
    "resolvent",
    "resolvent_grid",
    "density",
    "share_inside",
    "share_in_annulus",
    "Atom",
    "site_atoms",
    "Spill",
    "edge_spill",
    "step_gate_atoms",
    "AccumulationLaw",
    "slow_point",
    "slow_mode_rule",
    "slow_mode_fraction",
    "accumulation_law",
    "edge_gap",
    "marginal_window",
    "Marginals",
    "marginals",
    "log_potential",
]
