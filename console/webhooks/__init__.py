"""webhooks area."""
