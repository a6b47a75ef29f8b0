"""Real-estate transactions (R22) and barter (R23): pure rules (kinds, data sources, review, names)."""
