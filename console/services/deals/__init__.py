"""Deals and the lead as a record people work.

`timeline` tells a lead's story from the tables that hold each fact; `notes` and `tasks`
(callbacks among them, read from replies by `callback_times`) are the work people do on
it, and `agenda` lists what is due; `deals` holds the deals converted from a lead, one
open deal a lead, with their stage history and export. Hands deal figures to reports.
"""
