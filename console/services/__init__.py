"""The domain: plain functions over a SQLAlchemy session and values. No Flask here."""
