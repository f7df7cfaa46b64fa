"""A team's skip-trace providers and settings: order, prices, keys, and the live source.

Keys are sealed on the way in (console.services.secrets) and opened only to build the
source for a call; nothing here hands a key back to a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import SkipTraceProvider, Team
from console.models.skiptrace import PROVIDER_KINDS
from console.providers.skiptrace import Pricing, ProviderError, SkipTraceSource
from console.providers.skiptrace.file import FileSource
from console.providers.skiptrace.http import (
    EndpointRules,
    HttpSettings,
    HttpSource,
    check_template,
    endpoint_problem,
)
from console.providers.skiptrace.sandbox import SandboxSource
from console.services import secrets
from console.services.tenancy import of_team, scoped
from console.services.tracing import result_files


def endpoint_rules(config: Mapping) -> EndpointRules:
    """Which vendor endpoints this console may call: set by its operator, never by a team."""
    return EndpointRules(
        allow_http=bool(config.get("SKIPTRACE_ALLOW_HTTP", False)),
        allow_private=bool(config.get("SKIPTRACE_ALLOW_PRIVATE_HOSTS", False)),
    )


class ProviderProblem(ValueError):
    """A provider setting that cannot be saved, said for the form field it belongs to."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TraceSettings:
    """A team's rules for accepting results and re-tracing leads."""

    # The seed accepts a result at confidence 0.6 and up.
    threshold: int = 60
    # A lead traced this recently is not traced (nor paid for) again.
    freshness_days: int = 90

    @classmethod
    def of(cls, team: Team) -> TraceSettings:
        """The team's settings, defaults where it has none."""
        saved = (team.settings or {}).get("skiptrace", {})
        return cls(
            threshold=int(saved.get("threshold", cls.threshold)),
            freshness_days=int(saved.get("freshness_days", cls.freshness_days)),
        )


def save_trace_settings(team: Team, threshold: int, freshness_days: int) -> TraceSettings:
    """Store the acceptance threshold (0-100) and freshness window (0-3650 days)."""
    if not 0 <= threshold <= 100:
        raise ProviderProblem("The confidence threshold is a number from 0 to 100.", "threshold")
    if not 0 <= freshness_days <= 3650:
        raise ProviderProblem("Freshness is a number of days from 0 to 3650.", "freshness_days")
    team.settings = {
        **(team.settings or {}),
        "skiptrace": {"threshold": threshold, "freshness_days": freshness_days},
    }
    return TraceSettings(threshold, freshness_days)


def team_providers(
    session: Session, team_id: int, *, enabled_only: bool = False
) -> list[SkipTraceProvider]:
    """A team's providers in the order the waterfall tries them."""
    query = scoped(SkipTraceProvider, team_id).order_by(
        SkipTraceProvider.position, SkipTraceProvider.id
    )
    if enabled_only:
        query = query.where(SkipTraceProvider.enabled.is_(True))
    return list(session.scalars(query))


def money(text: str | Decimal | None, field: str) -> Decimal:
    """A price typed in a form ("0.07", "$0.07"), refused when negative or not a number."""
    try:
        value = Decimal(str(text or "0").strip().lstrip("$") or "0")
    except InvalidOperation as exc:
        raise ProviderProblem("Type a price in dollars, such as 0.07.", field) from exc
    if not value.is_finite() or value < 0 or value > 1000:
        raise ProviderProblem("A price is between $0 and $1,000.", field)
    return value


def add_provider(session: Session, team_id: int, kind: str, name: str) -> SkipTraceProvider:
    """A new provider of `kind` at the end of the team's order, with sensible defaults."""
    if kind not in PROVIDER_KINDS:
        raise ProviderProblem("Choose a kind of provider.", "kind")
    name = " ".join(name.split())[:80]
    if not name:
        raise ProviderProblem("Give the provider a name.", "name")
    taken = session.scalar(
        select(func.count())
        .select_from(SkipTraceProvider)
        .where(of_team(SkipTraceProvider, team_id), SkipTraceProvider.name == name)
    )
    if taken:
        raise ProviderProblem(f"There is already a provider called {name!r}.", "name")
    last = session.scalar(
        select(func.max(SkipTraceProvider.position)).where(of_team(SkipTraceProvider, team_id))
    )
    provider = SkipTraceProvider(
        team_id=team_id,
        kind=kind,
        name=name,
        position=(last or 0) + 1,
        settings=HttpSettings().to_dict() if kind == "http" else {},
        enabled=kind != "http",  # on once its endpoint and key are saved and tested
        rate_per_second=20.0 if kind == "http" else 50.0,
        max_concurrency=8 if kind == "http" else 4,
    )
    session.add(provider)
    session.flush()
    return provider


def update_provider(
    provider: SkipTraceProvider,
    form: Mapping[str, str],
    secrets_key: str,
    rules: EndpointRules | None = None,
) -> None:
    """Save a provider's form: prices, limits, HTTP settings and (when typed) a new key.

    An empty key field keeps the stored key; `clear_secret` removes it. The endpoint
    must be one `rules` allow (public https unless the console's operator says more).
    """
    provider.enabled = form.get("enabled") in ("y", "on", "1", "true")
    provider.cost_per_search = money(form.get("cost_per_search"), "cost_per_search")
    provider.cost_per_hit = money(form.get("cost_per_hit"), "cost_per_hit")
    provider.rate_per_second = _number(form.get("rate_per_second"), 0.1, 1000, "rate_per_second")
    provider.max_concurrency = int(_number(form.get("max_concurrency"), 1, 64, "max_concurrency"))
    if provider.kind == "http":
        provider.settings = _http_settings(form, rules or EndpointRules()).to_dict()
    if form.get("clear_secret"):
        provider.secret_encrypted = ""
    elif form.get("secret"):
        provider.secret_encrypted = secrets.seal(form["secret"].strip(), secrets_key)


def provider_form(provider: SkipTraceProvider) -> dict[str, str]:
    """The provider's settings as `update_provider` takes them, key left as stored."""
    form = {k: str(v) for k, v in HttpSettings.from_dict(provider.settings).to_dict().items()}
    return form | {
        "enabled": "y" if provider.enabled else "",
        "cost_per_search": str(provider.cost_per_search or 0),
        "cost_per_hit": str(provider.cost_per_hit or 0),
        "rate_per_second": str(provider.rate_per_second),
        "max_concurrency": str(provider.max_concurrency),
    }


def provider_facts(provider: SkipTraceProvider) -> dict:
    """What may be shown of a provider: everything but its key, of which only whether
    one is stored."""
    return {
        "id": provider.id,
        "position": provider.position,
        "name": provider.name,
        "kind": provider.kind,
        "enabled": provider.enabled,
        "endpoint": (provider.settings or {}).get("endpoint", "")
        if provider.kind == "http"
        else "",
        "cost_per_search": str(provider.cost_per_search or 0),
        "cost_per_hit": str(provider.cost_per_hit or 0),
        "rate_per_second": provider.rate_per_second,
        "max_concurrency": provider.max_concurrency,
        "key_stored": provider.has_secret,
    }


def _number(text: str | None, low: float, high: float, field: str) -> float:
    try:
        value = float(str(text or "").strip())
    except ValueError as exc:
        raise ProviderProblem(f"Type a number from {low:g} to {high:g}.", field) from exc
    if not low <= value <= high:
        raise ProviderProblem(f"Type a number from {low:g} to {high:g}.", field)
    return value


def _http_settings(form: Mapping[str, str], rules: EndpointRules) -> HttpSettings:
    settings = HttpSettings.from_dict({k: (v or "").strip() for k, v in form.items()})
    settings.auth_prefix = form.get("auth_prefix", "")  # "Bearer " keeps its space
    problem = endpoint_problem(settings.endpoint, rules, resolve=True)
    if problem:
        raise ProviderProblem(problem, "endpoint")
    if settings.method.upper() not in ("GET", "POST"):
        raise ProviderProblem("The method is GET or POST.", "method")
    settings.method = settings.method.upper()
    problem = check_template(settings.body_template)
    if problem:
        raise ProviderProblem(problem, "body_template")
    settings.timeout_seconds = _number(form.get("timeout_seconds"), 0.5, 120, "timeout_seconds")
    return settings


def move_provider(session: Session, provider: SkipTraceProvider, step: int) -> None:
    """Move a provider one place earlier (-1) or later (+1) in the team's order."""
    order = team_providers(session, provider.team_id)
    index = order.index(provider)
    other = index + step
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    for position, item in enumerate(order, start=1):
        item.position = position


def ensure_sandbox(session: Session, team: Team) -> SkipTraceProvider | None:
    """Give a team with no providers the sandbox one, so a first pass can be tried."""
    if team_providers(session, team.id):
        return None
    provider = add_provider(session, team.id, "sandbox", "Sandbox")
    # Pretend prices, labelled as sandbox wherever they show, so the cost pages mean something.
    provider.cost_per_search, provider.cost_per_hit = Decimal("0.02"), Decimal("0.05")
    return provider


def file_provider(session: Session, team_id: int) -> SkipTraceProvider:
    """The team's result-file provider, added (free, last in order) on its first upload."""
    for provider in team_providers(session, team_id):
        if provider.kind == "file":
            return provider
    return add_provider(session, team_id, "file", "Result files")


def pricing(provider: SkipTraceProvider) -> Pricing:
    """The provider's prices."""
    return Pricing(provider.cost_per_search, provider.cost_per_hit)


def build_source(
    provider: SkipTraceProvider,
    secrets_key: str,
    *,
    answers: Mapping | None = None,
    http_client: requests.Session | None = None,
    rules: EndpointRules | None = None,
) -> SkipTraceSource:
    """The live source behind a provider row (the key opened only here)."""
    if provider.kind == "sandbox":
        return SandboxSource(provider.name, pricing(provider))
    if provider.kind == "file":
        return FileSource(provider.name, pricing(provider), answers or {})
    return HttpSource(
        provider.name,
        HttpSettings.from_dict(provider.settings),
        secrets.unseal(provider.secret_encrypted, secrets_key),
        pricing(provider),
        client=http_client,
        rules=rules,
    )


def test_provider(
    session: Session,
    provider: SkipTraceProvider,
    secrets_key: str,
    rules: EndpointRules | None = None,
) -> tuple[bool, str]:
    """Try a provider once: (worked, what happened in words)."""
    answers = result_files.provider_answers(session, provider) if provider.kind == "file" else {}
    try:
        source = build_source(provider, secrets_key, answers=answers, rules=rules)
        return True, source.test_connection()
    except (ProviderError, secrets.SecretError) as exc:
        return False, f"{provider.name} did not answer as expected: {exc}"
