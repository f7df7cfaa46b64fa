"""The skip-trace interface: a query about one lead in, candidate owners and a cost out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Protocol

# The words vendors use for a number's line, reduced to the console's three kinds.
_MOBILE_WORDS = frozenset({"mobile", "wireless", "cell", "cellular", "cell phone", "m", "w"})
_LANDLINE_WORDS = frozenset({"landline", "land line", "residential", "fixed", "l", "r"})
_VOIP_WORDS = frozenset({"voip", "nonfixedvoip", "fixedvoip", "non-fixed voip", "v"})


def phone_type_word(text: str) -> str:
    """`mobile`, `landline`, `voip` or "" for a vendor's phone type (`Wireless`, `L`...)."""
    word = " ".join(str(text or "").strip().lower().replace("_", " ").split())
    if word in _MOBILE_WORDS:
        return "mobile"
    if word in _LANDLINE_WORDS:
        return "landline"
    if word.replace(" ", "") in _VOIP_WORDS:
        return "voip"
    return ""


@dataclass(frozen=True)
class TraceQuery:
    """What a provider is told about a lead: the business and what is known of its owner."""

    lead_id: int
    lead_code: str
    business_name: str = ""
    owner_name: str = ""
    first_name: str = ""
    last_name: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    phone: str = ""

    def fields(self) -> dict[str, str]:
        """The query as the `{field}` values a request template may use."""
        return {key: str(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class FoundPhone:
    """A number a provider gave, as it gave it, with the line type it claimed."""

    number: str
    type: str = ""  # mobile, landline, voip or "" (not said)


@dataclass
class Candidate:
    """A person a provider believes owns or runs the business, and how to reach them."""

    owner_name: str = ""
    title: str = ""
    phones: list[FoundPhone] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addresses: list[dict] = field(default_factory=list)
    confidence: int | None = None

    @property
    def name_words(self) -> int:
        """How many words the owner's name has (a full name has two or more)."""
        return len(self.owner_name.split())

    @property
    def has_mobile(self) -> bool:
        """Whether any number was given as a mobile."""
        return any(phone.type == "mobile" for phone in self.phones)

    @property
    def found_anything(self) -> bool:
        """Whether the candidate tells anything new: a name, a number or an address."""
        return bool(self.owner_name or self.phones or self.emails)

    def to_dict(self) -> dict:
        """A JSON-ready copy, as results store it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Candidate:
        """The candidate a stored result or file row holds."""
        return cls(
            owner_name=data.get("owner_name", ""),
            title=data.get("title", ""),
            phones=[FoundPhone(**phone) for phone in data.get("phones", [])],
            emails=list(data.get("emails", [])),
            addresses=list(data.get("addresses", [])),
            confidence=data.get("confidence"),
        )


@dataclass(frozen=True)
class Pricing:
    """What a provider charges: every search, plus a fee when it finds someone."""

    per_search: Decimal = Decimal(0)
    per_hit: Decimal = Decimal(0)

    @property
    def most(self) -> Decimal:
        """The most one call can cost."""
        return self.per_search + self.per_hit

    def cost(self, found: bool) -> Decimal:
        """The price of one answered call."""
        return self.per_search + (self.per_hit if found else Decimal(0))


@dataclass
class LookupResult:
    """A provider's answer: candidates (best first), what it cost, and the raw exchange."""

    candidates: list[Candidate]
    cost: Decimal
    request: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)
    sandbox: bool = False

    @property
    def found(self) -> bool:
        """Whether the provider found anyone."""
        return any(candidate.found_anything for candidate in self.candidates)


class ProviderError(Exception):
    """A call that got no usable answer. `retryable` errors (timeouts, 429, 5xx) are
    tried again with backoff; the others (bad key, bad request) are not."""

    def __init__(
        self, message: str, *, retryable: bool, request: dict | None = None, response=None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.request = request or {}
        self.response = response if response is not None else {}


class SkipTraceSource(Protocol):
    """What every skip-trace provider offers the waterfall."""

    name: str
    pricing: Pricing

    def lookup(self, query: TraceQuery) -> LookupResult:
        """Ask about one lead. Raises ProviderError when no usable answer came back."""
        ...

    def test_connection(self) -> str:
        """Make one harmless call; a sentence saying it worked, or ProviderError."""
        ...
