"""The result-file provider: answers come from vendor files the team uploaded.

Many skip-trace vendors deliver a spreadsheet rather than an API. Its rows are mapped
and matched to leads when the file is loaded (console.services.tracing.result_files); a lookup
then reads the rows already matched to the lead, newest file first.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.providers.skiptrace.base import Candidate, LookupResult, Pricing, TraceQuery


class FileSource:
    """Looks a lead up in the rows of the team's loaded result files."""

    sandbox = False

    def __init__(
        self, name: str, pricing: Pricing, answers: Mapping[int, list[tuple[int, Candidate]]]
    ) -> None:
        self.name = name
        self.pricing = pricing
        # lead id -> [(file row id, candidate)], newest first
        self.answers = answers

    def lookup(self, query: TraceQuery) -> LookupResult:
        """The rows matched to this lead, best confidence first; a miss when there are none."""
        rows = self.answers.get(query.lead_id, [])
        candidates = sorted(
            (candidate for _, candidate in rows if candidate.found_anything),
            key=lambda c: c.confidence or 0,
            reverse=True,
        )
        return LookupResult(
            candidates,
            self.pricing.cost(bool(candidates)),
            {"file_rows_for": query.lead_code},
            {"rows": [row_id for row_id, _ in rows]},
        )

    def test_connection(self) -> str:
        """How many leads the loaded files can answer for."""
        leads = len(self.answers)
        return f"Result files answer for {leads:,} lead{'' if leads == 1 else 's'}."
