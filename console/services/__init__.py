"""The domain: plain functions over a SQLAlchemy session and values. No Flask here.

One package per stage of the pipeline, in the order work flows: `lists`, `tracing`,
`campaigns`, `sending`, `replies`, `deals`, `reports`. Modules at this level are the
ones every stage shares.
"""
