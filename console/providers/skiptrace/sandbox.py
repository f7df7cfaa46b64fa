"""The sandbox provider: fictional owners with 555-01xx numbers, the same every time.

It answers like a paid vendor (a hit about two times in three, sometimes only a
partial answer, confidence that varies) so the whole waterfall can be tried without an
account. Every answer says `sandbox`, and the console labels it wherever it shows.
"""

from __future__ import annotations

import hashlib

from console.providers.skiptrace.base import (
    Candidate,
    FoundPhone,
    LookupResult,
    Pricing,
    TraceQuery,
)

FIRST_NAMES = (
    "Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan", "Elena",
    "Marcus", "Priya", "Diego", "Grace", "Samuel", "Naomi", "Victor", "Hannah", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Whitfield", "Castellano", "Okafor", "Lindqvist", "Brennan", "Moreau", "Takahashi",
    "Delgado", "Ashworth", "Kowalski", "Farrow", "Nakamura", "Pemberton", "Quintero",
)  # fmt: skip
TITLES = ("Owner", "President", "Owner / CEO", "Managing Member", "Founder")
# Area codes by state, so a sandbox number looks like it belongs to the business.
AREA_CODES = {
    "TX": "512", "CA": "415", "FL": "305", "NY": "212", "IL": "312", "GA": "404",
    "AZ": "602", "CO": "303", "WA": "206", "NC": "704", "OH": "614", "PA": "215",
}  # fmt: skip


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


class SandboxSource:
    """Deterministic fictional answers keyed on the lead code and the provider's name."""

    sandbox = True

    def __init__(self, name: str, pricing: Pricing, hit_percent: int = 65) -> None:
        self.name = name
        self.pricing = pricing
        self.hit_percent = hit_percent

    def lookup(self, query: TraceQuery) -> LookupResult:
        """A fictional owner for most leads, nobody for the rest."""
        seed = _digest(self.name, query.lead_code or str(query.lead_id))
        request = {"sandbox": True, "lead_code": query.lead_code, "business": query.business_name}
        if seed[0] * 100 // 256 >= self.hit_percent:
            return LookupResult([], self.pricing.cost(False), request, {"matches": []}, True)
        candidate = self._candidate(query, seed)
        return LookupResult(
            [candidate],
            self.pricing.cost(True),
            request,
            {"matches": [candidate.to_dict()]},
            sandbox=True,
        )

    def _candidate(self, query: TraceQuery, seed: bytes) -> Candidate:
        first = FIRST_NAMES[seed[1] % len(FIRST_NAMES)]
        last = query.last_name or LAST_NAMES[seed[2] % len(LAST_NAMES)]
        # One answer in five knows only a surname: a partial result the waterfall passes on.
        name = last if seed[3] % 5 == 0 else f"{first} {last}"
        area = AREA_CODES.get(query.state, "512")
        phones = [FoundPhone(f"+1{area}55501{seed[4] % 100:02d}", "mobile")]
        if seed[5] % 3 == 0:
            phones.append(FoundPhone(f"+1{area}55501{seed[6] % 100:02d}", "landline"))
        if seed[7] % 7 == 0:
            phones = []
        email = f"{first.lower()}.{last.lower()}@example.com"
        return Candidate(
            owner_name=name,
            title=TITLES[seed[8] % len(TITLES)],
            phones=phones,
            emails=[email] if seed[9] % 2 == 0 else [],
            addresses=[],
            confidence=55 + seed[10] % 45,
        )

    def test_connection(self) -> str:
        """The sandbox is always there."""
        return "The sandbox answers (fictional data, nothing is charged by a vendor)."
