"""One algorithm per module; the provider registers every RiskMapAlgorithm found here."""
