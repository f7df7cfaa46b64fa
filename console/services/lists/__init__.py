"""Lists: a purchased CSV or XLSX list becomes the team's leads.

`imports` runs an import's life (upload, mapping, chunks, summary, rejects); `tabular`
reads the file's rows; `mapping` holds the fields, vendors' column names and presets;
`normalize` cleans each cell and says where each field's rules live (`names`,
`phone_numbers`, `emails`, `addresses`, `business_fields`); `ingest` turns mapped rows
into leads a chunk at a time; `resolve` matches a row to an existing lead (blocking
keys, rules, merges); `duplicates` is the queue of uncertain pairs a person decides;
`leads` gives codes, the filtered lead list and the lead record; `editing` is what
people change on a lead (fields, tags, status, assignee); `merge_undo` takes a merge
back. Hands deduplicated
leads, with their phones and provenance, to tracing.
"""
