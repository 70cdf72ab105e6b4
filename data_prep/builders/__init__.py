"""Dataset builders: mixes (what to build), splits (which videos), plans (which sample where)."""
