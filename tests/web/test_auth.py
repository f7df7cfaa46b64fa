"""Signing in and out, throttling, password changes and the user admin page."""

from __future__ import annotations

from datetime import timedelta

from console.extensions import db
from console.models import AuditEvent, LoginAttempt, User
from tests.conftest import PASSWORD, login


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


def test_failed_logins_are_throttled_per_account(client, crew):
    for _ in range(5):
        client.post(
            "/login",
            data={"email": crew.reviewer.email, "password": "wrong-password"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        )
    # Even the right password is not checked while the account is throttled.
    response = client.post(
        "/login",
        data={"email": crew.reviewer.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    # Another account from another address is not affected.
    assert login(client, crew.operator).status_code == 302


def test_failed_logins_are_throttled_per_address(client, crew):
    for n in range(5):
        client.post(
            "/login",
            data={"email": f"guess{n}@x.example.com", "password": "x"},
            environ_base={"REMOTE_ADDR": "10.2.2.2"},
        )
    response = client.post(
        "/login",
        data={"email": crew.admin.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.2.2.2"},
    )
    assert response.status_code == 429


def test_throttle_lifts_after_the_window(client, crew):
    for _ in range(5):
        client.post("/login", data={"email": crew.reviewer.email, "password": "wrong-password"})
    for attempt in db.session.query(LoginAttempt):
        attempt.at = attempt.at - timedelta(seconds=61)
    db.session.commit()
    assert login(client, crew.reviewer).status_code == 302


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


def test_admin_adds_a_user_who_must_choose_a_password(app, client, crew):
    login(client, crew.admin)
    response = client.post(
        "/settings/users",
        data={
            "name": "Nia New",
            "email": "Nia@Harbor-Partners.example.com",
            "role": "reviewer",
            "password": "temporary-pass-1",
        },
    )
    assert response.status_code == 302
    user = db.session.query(User).filter_by(email="nia@harbor-partners.example.com").one()
    assert user.team_id == crew.team.id and user.role == "reviewer" and user.must_change_password
    assert (
        db.session.query(AuditEvent).filter_by(action="user.created", entity_id=user.id).count()
        == 1
    )
    page = client.get("/settings/users")
    assert "temporary-pass-1" not in page.text

    newcomer = app.test_client()
    first = newcomer.post("/login", data={"email": user.email, "password": "temporary-pass-1"})
    assert first.headers["Location"].endswith("/account/password")


def test_adding_a_user_twice_is_refused_with_a_message(client, crew):
    login(client, crew.admin)
    response = client.post(
        "/settings/users",
        data={
            "name": "Dup",
            "email": crew.operator.email,
            "role": "operator",
            "password": "temporary-pass-1",
        },
    )
    assert response.status_code == 400
    assert "already has an account" in response.text


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


def test_admin_exports_users_without_secrets(client, crew, outsider):
    login(client, crew.admin)
    response = client.get("/settings/users.csv")
    assert response.status_code == 200
    assert crew.reviewer.email in response.text and outsider.admin.email not in response.text
    assert "password" not in response.text.splitlines()[0].replace("must_change_password", "")
    assert crew.admin.password_hash not in response.text
