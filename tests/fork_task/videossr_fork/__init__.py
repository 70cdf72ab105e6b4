"""A fork's own package of pretext tasks (on the path like any installed package)."""
