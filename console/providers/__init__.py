"""Adapters to the outside world (skip-trace vendors, Twilio Lookup): each behind a small
interface, each with a sandbox or offline implementation, none of them aware of Flask."""
