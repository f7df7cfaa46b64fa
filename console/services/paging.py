"""Page arithmetic every paged list shares (leads, deals, a batch's queue)."""

from __future__ import annotations

import math


class Paged:
    """For a page of a list that has `total`, `page` (from 1) and `per_page`."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered list has."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        """1-based position of the first row shown (0 when none)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        """1-based position of the last row shown."""
        return min(self.total, self.page * self.per_page)
