"""Deals: what the inbox converts interested owners into, their stage history and export.

`deals` holds the rows and the export; the pipeline pages (stages, values, analytics)
land here. Hands deal figures to reports.
"""
