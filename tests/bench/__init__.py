"""Benchmarks: `python -m tests.bench` seeds many leads and prints render times and memory.

They print figures; they are not pass/fail tests. No module here is named like a test, so
`pytest tests` collects nothing from this package and never imports it.
"""
