"""Signing in and out, throttling, password changes and the user admin page."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from console.extensions import db
from console.models import AuditEvent, Invitation, LoginThrottle, User
from console.services import accounts
from tests.conftest import PASSWORD, login
from tests.sending_helpers import Clock


def test_sign_in_and_out(client, crew):
    response = login(client, crew.operator)
    assert response.headers["Location"].endswith("/")
    assert crew.operator.email in client.get("/").text or "Operator of" in client.get("/").text
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_without_revealing_which_part(client, crew):
    response = client.post(
        "/login", data={"email": crew.operator.email, "password": "nope-nope-nope"}
    )
    assert response.status_code == 401
    assert "do not match an active account" in response.text
    unknown = client.post("/login", data={"email": "ghost@nowhere.example.com", "password": "x"})
    assert unknown.status_code == 401
    assert "do not match an active account" in unknown.text


def _fail(client, email: str, address: str, password: str = "wrong-password"):
    """One sign-in attempt from `address`."""
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The time the accounts service reads, standing still until a test moves it."""
    clock = Clock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    monkeypatch.setattr(accounts, "utcnow", clock)
    return clock


def test_failed_logins_are_throttled_per_account_and_address(client, crew, clock):
    for _ in range(5):
        _fail(client, crew.reviewer.email, "10.9.9.9")
    # Even the right password is not checked from that address while it backs off.
    response = _fail(client, crew.reviewer.email, "10.9.9.9", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins. Try again in 60 seconds" in response.text


def test_guesses_from_one_address_do_not_lock_the_owner_out_elsewhere(client, crew, clock):
    for _ in range(5):
        _fail(client, crew.reviewer.email, "10.9.9.9")
    assert _fail(client, crew.reviewer.email, "10.9.9.9", PASSWORD).status_code == 429
    assert _fail(client, crew.reviewer.email, "10.1.1.1", PASSWORD).status_code == 302


def test_failures_at_other_accounts_do_not_block_an_address(client, crew, clock):
    # An office behind one NAT: a colleague's typos never lock everyone else out.
    for n in range(10):
        _fail(client, f"guess{n}@x.example.com", "10.2.2.2")
    assert _fail(client, crew.admin.email, "10.2.2.2", PASSWORD).status_code == 302


def test_an_account_backs_off_after_failures_from_many_addresses(app, client, crew, clock):
    limit = app.config["LOGIN_THROTTLE_ACCOUNT_LIMIT"]
    for n in range(limit):
        _fail(client, crew.reviewer.email, f"10.3.0.{n}")
    response = _fail(client, crew.reviewer.email, "10.1.1.1", PASSWORD)
    assert response.status_code == 429
    clock.advance(seconds=61)
    assert _fail(client, crew.reviewer.email, "10.1.1.1", PASSWORD).status_code == 302


def test_back_off_grows_per_failure_but_never_locks_for_good(client, crew, clock):
    for _ in range(5):
        _fail(client, crew.reviewer.email, "10.9.9.9")
    for wait in (60, 120, 240, 480, 900, 900):
        refused = _fail(client, crew.reviewer.email, "10.9.9.9")
        assert refused.status_code == 429 and f"Try again in {wait} seconds" in refused.text
        clock.advance(seconds=wait - 1)
        assert _fail(client, crew.reviewer.email, "10.9.9.9", PASSWORD).status_code == 429
        clock.advance(seconds=1)  # refused attempts did not push the end back
        assert _fail(client, crew.reviewer.email, "10.9.9.9").status_code == 401
    clock.advance(seconds=900)
    assert _fail(client, crew.reviewer.email, "10.9.9.9", PASSWORD).status_code == 302


def test_success_clears_the_count(client, crew, clock):
    for _ in range(4):
        _fail(client, crew.reviewer.email, "10.9.9.9")
    assert _fail(client, crew.reviewer.email, "10.9.9.9", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _fail(client, crew.reviewer.email, "10.9.9.9").status_code == 401


def test_an_attempt_is_counted_before_the_password_is_checked(client, crew, monkeypatch):
    seen = []
    real = accounts.check_password_hash

    def check(password_hash: str, password: str) -> bool:
        with db.engine.connect() as other:  # what any parallel request would see
            seen.append(
                other.scalar(
                    select(LoginThrottle.failures).where(
                        LoginThrottle.email == crew.reviewer.email, LoginThrottle.ip == ""
                    )
                )
            )
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "check_password_hash", check)
    _fail(client, crew.reviewer.email, "10.9.9.9")
    _fail(client, crew.reviewer.email, "10.9.9.9")
    assert seen == [1, 2]


def test_parallel_guesses_check_no_more_passwords_than_the_limit(app, crew, monkeypatch):
    checked = []
    real = accounts.check_password_hash

    def check(password_hash: str, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "check_password_hash", check)
    barrier = threading.Barrier(20)
    email = crew.reviewer.email

    def guess(n: int) -> int:
        client = app.test_client()
        barrier.wait()
        return _fail(client, email, "10.9.9.9", f"wrong-guess-{n}").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(20)))
    assert len(checked) == app.config["LOGIN_THROTTLE_LIMIT"]
    assert sorted(set(statuses)) == [401, 429]


def test_inactive_user_cannot_sign_in(client, crew):
    crew.reviewer.active = False
    db.session.commit()
    response = client.post("/login", data={"email": crew.reviewer.email, "password": PASSWORD})
    assert response.status_code == 401


def test_next_parameter_cannot_leave_the_site(client, crew):
    response = client.post(
        "/login?next=//evil.example.com/x",
        data={"email": crew.operator.email, "password": PASSWORD},
    )
    assert "evil.example.com" not in response.headers["Location"]
    client.post("/logout")
    response = client.post(
        "/login?next=/leads/", data={"email": crew.operator.email, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/leads/")


def test_password_change_signs_out_other_sessions(app, crew):
    first, second = app.test_client(), app.test_client()
    login(first, crew.operator)
    login(second, crew.operator)
    response = first.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a-new-long-password", "confirm": "a-new-long-password"},
    )
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302  # its session token is no longer valid
    second.post("/login", data={"email": crew.operator.email, "password": "a-new-long-password"})
    assert second.get("/").status_code == 200


def _copy_cookie(source, target, name: str = "session") -> None:
    domain = source.application.config["SERVER_NAME"]
    target.set_cookie(name, source.get_cookie(name, domain=domain).value, domain=domain)


def test_logout_ends_the_session_a_copied_cookie_carries(app, client, crew):
    login(client, crew.operator)
    copy = app.test_client()
    _copy_cookie(client, copy)
    assert copy.get("/").status_code == 200
    client.post("/logout")
    replayed = copy.get("/")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_password_change_ends_the_session_a_copied_cookie_carries(app, client, crew):
    login(client, crew.operator)
    copy = app.test_client()
    _copy_cookie(client, copy)
    client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a-new-long-password", "confirm": "a-new-long-password"},
    )
    assert client.get("/").status_code == 200
    assert copy.get("/").status_code == 302


def test_logout_ends_remember_me_cookies(app, client, crew):
    remembered = app.test_client()
    remembered.set_cookie(
        app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        encode_cookie(crew.operator.get_id()),
        domain=app.config["SERVER_NAME"],
    )
    assert remembered.get("/").status_code == 200
    login(client, crew.operator)
    client.post("/logout")
    assert remembered.get("/").status_code == 302


SLOW_HASH = "pbkdf2:sha256:2000"


@pytest.mark.parametrize("app_overrides", [{"PASSWORD_HASH_METHOD": SLOW_HASH}])
def test_every_sign_in_path_checks_one_hash_made_like_real_ones(client, crew, monkeypatch):
    for user in (crew.operator, crew.reviewer):
        user.password_hash = generate_password_hash(PASSWORD, method=SLOW_HASH)
    crew.reviewer.active = False
    db.session.commit()
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda h, p: checked.append(h) or real(h, p)
    )
    kind = generate_password_hash("x", method=SLOW_HASH).split("$")[0]
    for email, password in (
        ("ghost@nowhere.example.com", PASSWORD),  # unknown
        (crew.reviewer.email, PASSWORD),  # disabled
        (crew.operator.email, "wrong-password"),
        (crew.operator.email, PASSWORD),
    ):
        checked.clear()
        client.post("/login", data={"email": email, "password": password})
        assert [h.split("$")[0] for h in checked] == [kind], email


def test_password_change_checks_the_current_password(client, crew):
    login(client, crew.operator)
    response = client.post(
        "/account/password",
        data={
            "current": "not-it-at-all",
            "new": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 200
    assert "current password is not right" in response.text


def _invite(client, email: str, role: str = "reviewer"):
    return client.post("/settings/users", data={"name": "Nia New", "email": email, "role": role})


def _invitation_link(client) -> str:
    """The one-time link shown on the users page after an invitation."""
    page = client.get("/settings/users").text
    match = re.search(r'id="invitation-link" readonly value="([^"]+)"', page)
    assert match, "no invitation link on the page"
    return urlsplit(match.group(1)).path


def test_admin_invites_a_user_who_chooses_a_password(app, client, crew):
    login(client, crew.admin)
    response = _invite(client, "Nia@Harbor-Partners.example.com")
    assert response.status_code == 302
    link = _invitation_link(client)
    assert 'id="invitation-link"' not in client.get("/settings/users").text  # shown once
    invitation = db.session.query(Invitation).one()
    assert invitation.email == "nia@harbor-partners.example.com"
    assert link.rsplit("/", 1)[-1] not in invitation.token_hash  # only its hash is kept

    newcomer = app.test_client()
    assert newcomer.get(link).status_code == 200
    joined = newcomer.post(
        link, data={"name": "Nia", "password": "her-own-password", "confirm": "her-own-password"}
    )
    assert joined.status_code == 302
    user = db.session.query(User).filter_by(email="nia@harbor-partners.example.com").one()
    assert user.team_id == crew.team.id and user.role == "reviewer"
    assert joined.headers["Location"] == "/inbox"  # a reviewer's work is the inbox
    assert newcomer.get("/inbox").status_code == 200
    assert app.test_client().get(link).status_code == 404  # a link works once
    assert (
        db.session.query(AuditEvent).filter_by(action="user.created", entity_id=user.id).count()
        == 1
    )


def test_inviting_a_taken_address_looks_the_same_as_a_new_one(app, client, crew, outsider):
    login(client, crew.admin)
    outcomes = {}
    fresh = "fresh@harbor-partners.example.com"
    for email in (outsider.operator.email, crew.operator.email, fresh):
        response = _invite(client, email)
        page = client.get(response.headers["Location"])
        said = re.search(r"Invitation recorded for [^<]*", page.text).group(0)
        outcomes[email] = (response.status_code, page.status_code, said.replace(email, "EMAIL"))
        assert "already" not in page.text and 'id="invitation-link"' in page.text
    assert len(set(outcomes.values())) == 1
    db.session.refresh(outsider.operator)
    assert outsider.operator.team_id == outsider.team.id
    assert outsider.operator.email not in client.get("/settings/users.csv").text


def test_a_link_for_a_taken_address_cannot_be_used(app, client, crew, outsider):
    login(client, crew.admin)
    _invite(client, outsider.operator.email)
    link = _invitation_link(client)
    stranger = app.test_client()
    response = stranger.post(
        link, data={"name": "X", "password": "a-long-password", "confirm": "a-long-password"}
    )
    assert response.status_code == 404
    assert response.text == stranger.get("/invite/not-a-token").text
    assert db.session.query(User).filter_by(email=outsider.operator.email).one().team_id == (
        outsider.team.id
    )


def test_an_invitation_expires(app, client, crew, clock):
    login(client, crew.admin)
    _invite(client, "late@harbor-partners.example.com")
    link = _invitation_link(client)
    clock.advance(days=7, seconds=1)
    assert app.test_client().get(link).status_code == 404


def test_admin_changes_a_role_and_turns_access_off(app, client, crew):
    login(client, crew.admin)
    reviewer_client = app.test_client()
    login(reviewer_client, crew.reviewer)
    client.post(f"/settings/users/{crew.reviewer.id}", data={"role": "manager"})  # no "active"
    db.session.refresh(crew.reviewer)
    assert crew.reviewer.role == "manager" and not crew.reviewer.active
    assert reviewer_client.get("/").status_code == 302


def test_last_admin_cannot_demote_themselves(client, crew):
    login(client, crew.admin)
    response = client.post(
        f"/settings/users/{crew.admin.id}",
        data={"role": "operator", "active": "y"},
        follow_redirects=True,
    )
    assert "at least one active admin" in response.text
    db.session.refresh(crew.admin)
    assert crew.admin.role == "admin"


def test_user_names_are_rendered_escaped(client, crew):
    crew.reviewer.name = "<script>alert(1)</script>"
    db.session.commit()
    login(client, crew.admin)
    page = client.get("/settings/users")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_create_admin_command(runner):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "boss@acme.example.com",
            "--team",
            "Acme Roll-Up",
            "--name",
            "Boss",
        ],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="boss@acme.example.com").one()
    assert user.role == "admin" and user.team.name == "Acme Roll-Up"
    again = runner.invoke(
        args=["create-admin", "--email", "boss@acme.example.com", "--team", "Acme Roll-Up"],
        input="a-long-password\na-long-password\n",
    )
    assert again.exit_code != 0 and "already has an account" in again.output


def test_create_admin_refuses_an_email_sign_in_would_refuse(runner, client):
    result = runner.invoke(
        args=["create-admin", "--email", "x@other.test", "--team", "Acme Roll-Up"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code != 0
    assert "cannot be used to sign in" in result.output
    assert db.session.query(User).count() == 0
    # The sign-in form gives the same reason, from the same check.
    response = client.post("/login", data={"email": "x@other.test", "password": "a-long-password"})
    assert response.status_code == 400 and "cannot be used to sign in" in response.text


def test_admin_cannot_invite_an_email_sign_in_would_refuse(client, crew):
    login(client, crew.admin)
    response = _invite(client, "x@other.test")
    assert response.status_code == 400 and "cannot be used to sign in" in response.text
    assert db.session.query(Invitation).count() == 0


def test_admin_exports_users_without_secrets(client, crew, outsider):
    login(client, crew.admin)
    response = client.get("/settings/users.csv")
    assert response.status_code == 200
    assert crew.reviewer.email in response.text and outsider.admin.email not in response.text
    assert "password" not in response.text.splitlines()[0].replace("must_change_password", "")
    assert crew.admin.password_hash not in response.text
