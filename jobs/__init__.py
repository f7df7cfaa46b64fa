"""RQ job entry points. Jobs take ids, open an app context and call services."""
