"""Fixtures: apps on SQLite and PostgreSQL, a team with one user per role, an outsider."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from console.models import Business, Lead, LeadSource, Owner, Phone, Role, Team, User
from console.services import accounts
from console.services.lists.leads import allocate_codes
from tests import servers

PASSWORD = "correct-horse-1"
FAST_HASH = TestConfig.PASSWORD_HASH_METHOD


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A PostgreSQL server for the session: TEST_POSTGRES_URL, or one started here."""
    import os

    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    server = servers.PostgresServer()
    if not (server.initdb and server.pg_ctl):
        servers.unavailable("postgres", "initdb and pg_ctl not found")
    try:
        url = server.start()
    except Exception as exc:  # noqa: BLE001 - any start failure means "not available"
        servers.unavailable("postgres", f"could not start: {exc}")
    yield url
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url):
    """A database of its own for this test session (one per pytest-xdist worker)."""
    return servers.create_database(postgres_admin_url, f"console_test{servers.worker_suffix()}")


@pytest.fixture(scope="session")
def redis_url():
    """A Redis server for the session: TEST_REDIS_URL, or one started here."""
    import os

    if os.environ.get("TEST_REDIS_URL"):
        yield servers.worker_redis_url(os.environ["TEST_REDIS_URL"])
        return
    server = servers.RedisServer()
    if not server.binary:
        servers.unavailable("redis", "redis-server not found")
    url = server.start()
    yield url
    server.stop()


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own context, as in a real server.

    The test keeps an app context open for its own queries; without this, requests
    would share it (and its `g` and database session) with the test and each other.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside the context
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app_settings() -> dict:
    """Settings a test module gives the app (override this fixture in the module)."""
    return {}


@pytest.fixture
def app_overrides() -> dict:
    """Settings one test changes on the app (parametrize this name to change them)."""
    return {}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, tmp_path, app_settings, app_overrides):
    """The console on an empty schema, on SQLite and again on PostgreSQL."""
    config = TestConfig(UPLOAD_DIR=str(tmp_path / "uploads"), **(app_settings | app_overrides))
    if request.param == "postgres":
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(request.getfixturevalue("postgres_url"))
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'console.db'}"
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for `app`'s commands."""
    return app.test_cli_runner()


@dataclass
class TeamUsers:
    """A team with one user per role."""

    team: Team
    admin: User
    manager: User
    operator: User
    reviewer: User

    def by_role(self, role: Role) -> User:
        return getattr(self, role.value)


def make_team(name: str) -> TeamUsers:
    """A team called `name` with one user per role, committed."""
    team = accounts.get_or_create_team(db.session, name)
    slug = team.slug
    users = {
        role.value: accounts.create_user(
            db.session,
            team,
            email=f"{role.value}@{slug}.example.com",
            password=PASSWORD,
            role=role,
            name=f"{role.label} of {name}",
            hash_method=FAST_HASH,
        )
        for role in Role
    }
    db.session.commit()
    return TeamUsers(team=team, **users)


def make_lead(
    team: Team,
    business_name: str,
    owner_name: str = "",
    mobile: str = "",
    state: str = "TX",
    city: str | None = None,
) -> Lead:
    """A committed lead of `team` with a business (in Austin when in Texas and no city is
    given), and an owner and mobile when given."""
    if city is None:
        city = "Austin" if state == "TX" else ""
    business = Business(team_id=team.id, name=business_name, state=state, city=city)
    owner = None
    if owner_name:
        owner = Owner(
            team_id=team.id,
            full_name=owner_name,
            first_name=owner_name.split()[0],
            last_name=owner_name.split()[-1],
        )
        if mobile:
            owner.phones.append(Phone(team_id=team.id, e164=mobile, kind="mobile"))
    (code,) = allocate_codes(db.session, team.id, 1)
    lead = Lead(
        team_id=team.id,
        code=code,
        business=business,
        owner=owner,
        provenance={"source": "test", "file": "t.csv"},
    )
    lead.sources.append(LeadSource(team_id=team.id, filename="t.csv", row_number=2))
    db.session.add(lead)
    db.session.commit()
    return lead


@pytest.fixture
def crew(app) -> TeamUsers:
    """Our team: one user per role."""
    return make_team("Harbor Partners")


@pytest.fixture
def outsider(app) -> TeamUsers:
    """Another team, whose data our users must never see."""
    return make_team("Rival Capital")


def login(client, user: User, password: str = PASSWORD):
    """Sign `user` in through the login form."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.text
    return response


@pytest.fixture
def as_user(client):
    """Sign in as a user: `as_user(crew.operator)`."""

    def sign_in(user: User):
        login(client, user)
        return client

    return sign_in
