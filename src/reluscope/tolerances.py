"""Every floating-point tolerance of reluscope, defined once.

REGION_EPS fixes what "active" means when counting linear regions: a unit is active in
a region iff its pre-activation can reach ``g >= REGION_EPS`` there, and inactive iff
``g <= 0``. This is the MILP counting model (paper eqs 5-7) with ``f >= REGION_EPS``
standing for ``f > 0``; every counting engine uses exactly this definition, so all of
them count the same patterns.
"""

from __future__ import annotations

#: Margin standing for the strict inequality g > 0 of an active unit (see module doc).
REGION_EPS = 1e-6

#: Primal feasibility tolerance requested from the LP solvers (HiGHS), and the rule of
#: the lp engine and the brute-force oracle: a side is non-empty when the LP optimum
#: reaches its threshold within this.
SOLVER_FEASIBILITY_TOL = 1e-9

#: SCIP's feasibility tolerance (``numerics/feastol``; SCIP's default is 1e-6). Not
#: below 1e-7: SCIP tightens it by 1000x for SoPlex when an LP is in numerical
#: trouble, and SoPlex cannot go below 1e-10 without GMP ("error in LP solver").
SCIP_FEASIBILITY_TOL = 1e-7

#: SCIP's feasibility tolerance in its solution counter (``scip-count``), which cannot
#: have its patterns checked afterwards (the milp enumeration checks each one), so it
#: runs at the region definition's tolerance and may fail where SoPlex cannot follow.
SCIP_COUNT_FEASIBILITY_TOL = SOLVER_FEASIBILITY_TOL

#: Simplex iterations allowed per warm-started HiGHS solve (lp counting engine, LP
#: bounds). Their LPs take 10-250 iterations (measured); a solve that reaches the cap
#: has cycled (seen once on an MNIST network: 10+ minutes in one solve) and is solved
#: again from scratch.
MAX_LP_ITERATIONS = 20_000

#: Outward padding of computed pre-activation bounds, absorbing solver round-off so that
#: bounds stay valid (they must contain every reachable value).
BOUND_PADDING = 1e-7

#: Relative agreement required between two forward passes said to be equal
#: (compression equivalence checks, loader round trips): |a - b| <= EQUAL_RTOL * scale.
EQUAL_RTOL = 1e-6

#: Margin of the stability questions of compression (LEO): a unit can be positive iff
#: some x in the domain gives g >= STABLE_MARGIN, negative iff some x gives
#: g <= -STABLE_MARGIN. A unit with g < STABLE_MARGIN on the whole domain is removed as
#: stably inactive; one with g > -STABLE_MARGIN everywhere is folded as stably active.
#: Either changes an output by at most STABLE_MARGIN times the downstream weights.
STABLE_MARGIN = 1e-7

#: Relative residual below which a stably active unit's weight row counts as a linear
#: combination of other stably active rows of its layer (compression folds it).
FOLD_RANK_RTOL = 1e-10

#: Exact slices and lines (reluscope.regions.views.slices): a polygon vertex counts as lying
#: on the kept side of a cutting line ``g = bound`` when it misses it by at most
#: SLICE_TOL times the scale ``1 + |a|_1 + |c|`` of ``g(p) = a.p + c`` (floating-point
#: round-off of the clipping, far below REGION_EPS); and a cell is a 2-D (1-D) piece of
#: the tiling iff its area (length) in slice coordinates exceeds SLICE_TOL.
SLICE_TOL = 1e-12

#: Geometric engine (reluscope.regions.count.geometric): a cell's vertex is on a unit's
#: hyperplane (or a polytope row) when ``|a.x + c|`` is at most GEOMETRIC_TOL times
#: ``|c| + R sum_k |a_k|`` (``R`` the box's largest coordinate magnitude): the rounding
#: of vertices computed by a few dozen cuts is far below it, and a vertex of a generic
#: network is this close to an unrelated hyperplane with probability about 1e-10 per pair.
GEOMETRIC_TOL = 1e-10

#: Relative rounding margin of the emptiness certificates of the compiled lp engine: a
#: Lagrangian bound ``L(y) = b.y + sum_j min(d_j l_j, d_j u_j)`` proves a side empty only
#: when ``L(y) - CERTIFICATE_RTOL * M`` passes the threshold, ``M`` the sum of the
#: magnitudes of every term summed (double rounding of sums of <= 10^4 terms is below
#: 10^-12 M; the margin also covers the rounding of the x-space rows themselves).
CERTIFICATE_RTOL = 1e-10

#: Reduced-cost tolerance of the compiled engine's dual simplex (Harris ratio test).
KERNEL_DUAL_TOL = 1e-9

#: Smallest pivot the compiled engine's dual simplex accepts.
KERNEL_PIVOT_TOL = 1e-9

#: A counted region's witness point must pass a forward pass of the network with this
#: margin: ``g >= REGION_EPS - WITNESS_TOL`` for its active units and ``g <= WITNESS_TOL``
#: for the inactive ones (the LP's own feasibility tolerance is SOLVER_FEASIBILITY_TOL).
WITNESS_TOL = 1e-8

#: Relative cost perturbation of the compiled engine's dual simplex (cost c_j is moved
#: by up to this times 1 + |c_j| away from zero): it breaks the dual degeneracy that
#: makes a textbook dual simplex cycle. Only the simplex path depends on it: emptiness
#: is certified and witnesses are checked with the true costs. At 1e-7 about one LP in
#: 140 of a tree estimate on MNIST 784;12;12;10 still cycled to KERNEL_MAX_ITERATIONS
#: (75 hand-overs to HiGHS per run, a third of its CPU); at 1e-6 one in 10,000, and a
#: run took 5.0-5.4 s of CPU instead of 7.9-8.5 s (exact counts unchanged).
KERNEL_COST_PERTURBATION = 1e-6

#: Simplex iterations allowed per LP of the compiled engine. Its LPs take 1-15 on
#: average (docs/bench-count.md); one that reaches the cap has cycled (seen on about one
#: LP in 200 on a random 784;6;6;4 network) and its node goes to the HiGHS search.
KERNEL_MAX_ITERATIONS = 300

#: Outward padding (relative above magnitude 1) of the bounding box of a polytope domain
#: ``A x <= b`` (reluscope.polytope.bounding_box): it absorbs the rounding of the
#: Lagrangian bounds that give the box, so the stored box always contains the domain.
DOMAIN_BOX_PADDING = 1e-9

#: A point satisfies a polytope row ``a.x <= b`` when ``a.x <= b + DOMAIN_TOL * (1 + |b|)``
#: (the LP solvers' own feasibility tolerance): points returned by an LP over the domain
#: count as inside it.
DOMAIN_TOL = SOLVER_FEASIBILITY_TOL

#: A polytope domain whose largest inscribed ball has a radius below this is *flat* (no
#: interior): it is analysed as any other, but cannot be sampled uniformly.
DOMAIN_FLAT_RADIUS = 1e-9
