"""campaigns area."""
