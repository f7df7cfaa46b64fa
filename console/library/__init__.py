"""library area."""
