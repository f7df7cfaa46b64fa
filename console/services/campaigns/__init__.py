"""Campaigns: choose leads and a template, draft a batch, and have a person approve it.

`campaigns` holds the selection criteria, exclusions and campaign records; `batches`
drafts up to 2,000 texts, takes reviewers' edits and approval; `queue_flags` shows the
review queue's live compliance flags, token highlights and CSV; `templates` is the
team's template library, seeded from `template_library`; `tokens` renders
`{firstName|there}`, with `industry_labels` the plain words for SIC and NAICS codes;
`segments` is the one home of SMS segment math. Hands approved batches to sending.
"""
