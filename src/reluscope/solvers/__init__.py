"""The solver layer: every HiGHS object and SCIP model is created and configured here."""
