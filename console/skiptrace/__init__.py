"""Skip tracing: choose leads, see the estimate, run a pass, read its summary; result files."""
