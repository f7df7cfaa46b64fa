"""The Imports area: upload lists, map their columns, run them, review duplicates."""
