"""Reports: the figures managers read across the pipeline."""
