"""The MILP model of a network (paper eqs 1-9) and the SCIP settings that keep it safe."""

from reluscope.milp.model import (
    SAFE_SCIP_PARAMS,
    NetworkModel,
    build_network_model,
    new_scip_model,
)

__all__ = ["SAFE_SCIP_PARAMS", "NetworkModel", "build_network_model", "new_scip_model"]
