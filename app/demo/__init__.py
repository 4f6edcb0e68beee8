"""Demo data for trying Ruyi out (``flask demo seed``); never used by the tests' assertions."""
