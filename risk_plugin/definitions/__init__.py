"""Parameter defaults with their sources, one module per concern (as InaSAFE's safe/definitions)."""
