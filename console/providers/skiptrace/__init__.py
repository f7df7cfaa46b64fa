"""Skip-trace sources: one interface, `lookup(query) -> LookupResult`, three kinds."""

from console.providers.skiptrace.base import (
    Candidate,
    FoundPhone,
    LookupResult,
    Pricing,
    ProviderError,
    SkipTraceSource,
    TraceQuery,
)

__all__ = [
    "Candidate",
    "FoundPhone",
    "LookupResult",
    "Pricing",
    "ProviderError",
    "SkipTraceSource",
    "TraceQuery",
]
