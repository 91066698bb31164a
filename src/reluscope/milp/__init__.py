"""The MILP model of a network (paper eqs 1-9)."""

from reluscope.milp.model import NetworkModel, build_network_model

__all__ = ["NetworkModel", "build_network_model"]
