"""Teams, users, passwords and sign-in, including the throttle on failed attempts."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from console.models import LoginAttempt, Role, Team, User
from console.models.base import utcnow
from console.services import audit
from console.services.tenancy import of_team, scoped

MIN_PASSWORD_LENGTH = 10
DEFAULT_HASH_METHOD = "scrypt"
# Checked against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method="pbkdf2:sha256:1000")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, in words for the user.

    `field` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SignInResult:
    """What happened to a sign-in attempt."""

    user: User | None
    throttled: bool = False
    retry_after: int = 0


def slugify(name: str) -> str:
    """A lowercase, dash-separated slug for a team name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "team"


def normalize_email(email: str) -> str:
    """Email addresses compare trimmed and lower-cased."""
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short to be worth having."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")


def get_or_create_team(session: Session, name: str, *, is_demo: bool = False) -> Team:
    """The team called `name`, created if there is none yet."""
    name = name.strip()
    if not name:
        raise AccountError("A team needs a name.")
    team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
    if team is None:
        team = Team(name=name, slug=_unique_slug(session, slugify(name)), is_demo=is_demo)
        session.add(team)
        session.flush()
    return team


def _unique_slug(session: Session, slug: str) -> str:
    taken = set(session.scalars(select(Team.slug).where(Team.slug.like(f"{slug}%"))))
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def create_user(
    session: Session,
    team: Team,
    *,
    email: str,
    password: str,
    role: Role | str,
    name: str = "",
    must_change_password: bool = False,
    actor: User | None = None,
    hash_method: str = DEFAULT_HASH_METHOD,
) -> User:
    """Add a user to `team`; the email must not be in use by anyone."""
    email = normalize_email(email)
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise AccountError(f"{email} already has an account.", field="email")
    check_password_strength(password)
    user = User(
        team=team,
        email=email,
        name=name.strip(),
        role=Role(role).value,
        password_hash=generate_password_hash(password, method=hash_method),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        team_id=team.id,
        actor_id=actor.id if actor else None,
        action="user.created",
        entity=user,
        after={"email": email, "role": user.role},
    )
    return user


def load_user(session: Session, session_id: str) -> User | None:
    """The active user whose session identity (`id:token`) is `session_id`."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str,
    limit: int,
    window_seconds: int,
    now: datetime | None = None,
) -> SignInResult:
    """Check a password, refusing to try while the account or address is throttled.

    Failed attempts are counted per account and per address over a sliding window;
    past `limit` in either, no password is checked until the window has passed.
    """
    now = now or utcnow()
    email = normalize_email(email)
    since = now - timedelta(seconds=window_seconds)
    retry_after = _throttle_wait(session, email, ip, since, limit, window_seconds, now)
    if retry_after:
        return SignInResult(user=None, throttled=True, retry_after=retry_after)

    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = user.active and check_password_hash(user.password_hash, password)
    session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, at=now))
    if ok:
        user.last_login_at = now
    return SignInResult(user=user if ok else None)


def _throttle_wait(
    session: Session,
    email: str,
    ip: str,
    since: datetime,
    limit: int,
    window_seconds: int,
    now: datetime,
) -> int:
    """Seconds until another attempt is allowed, or 0 when it is allowed now."""
    waits = []
    for column, value in ((LoginAttempt.email, email), (LoginAttempt.ip, ip)):
        failures = select(LoginAttempt.at).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since
        )
        count = session.scalar(select(func.count()).select_from(failures.subquery()))
        if count >= limit:
            oldest = session.scalar(
                failures.order_by(LoginAttempt.at.desc()).offset(limit - 1).limit(1)
            )
            waits.append(
                max(1, int((oldest + timedelta(seconds=window_seconds) - now).total_seconds()) + 1)
            )
    return max(waits, default=0)


def change_password(
    session: Session,
    user: User,
    current: str,
    new: str,
    *,
    hash_method: str = DEFAULT_HASH_METHOD,
) -> None:
    """Set a new password after checking the current one; other sessions end."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError("The current password is not right.", field="current")
    if new == current:
        raise AccountError("Choose a password different from the current one.", field="new")
    check_password_strength(new)
    user.password_hash = generate_password_hash(new, method=hash_method)
    user.session_token = secrets.token_urlsafe(32)
    user.must_change_password = False
    audit.record(
        session, team_id=user.team_id, actor_id=user.id, action="user.password_changed", entity=user
    )


def team_users(session: Session, team_id: int) -> list[User]:
    """A team's users, admins first, then by email."""
    users = session.scalars(scoped(User, team_id)).all()
    order = {role.value: i for i, role in enumerate(Role)}
    return sorted(users, key=lambda u: (not u.active, order[u.role], u.email))


USER_EXPORT_COLUMNS = (
    "email",
    "name",
    "role",
    "active",
    "must_change_password",
    "last_login_at",
    "created_at",
)


def export_row(user: User) -> list:
    """A user as one CSV row in `USER_EXPORT_COLUMNS` order (no secrets)."""
    return [
        user.email,
        user.name,
        user.role,
        user.active,
        user.must_change_password,
        user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "",
        user.created_at.isoformat(timespec="seconds"),
    ]


def update_user(
    session: Session, actor: User, user: User, *, role: Role | str, active: bool
) -> None:
    """Change a teammate's role or access, never leaving the team without an admin."""
    role = Role(role)
    before = {"role": user.role, "active": user.active}
    if user.role == Role.ADMIN and (role != Role.ADMIN or not active):
        other_admins = session.scalar(
            select(func.count(User.id)).where(
                of_team(User, user.team_id),
                User.role == Role.ADMIN.value,
                User.active.is_(True),
                User.id != user.id,
            )
        )
        if not other_admins:
            raise AccountError("The team needs at least one active admin.")
    user.role = role.value
    if user.active and not active:
        user.session_token = secrets.token_urlsafe(32)  # signs the user out everywhere
    user.active = active
    audit.record(
        session,
        team_id=user.team_id,
        actor_id=actor.id,
        action="user.updated",
        entity=user,
        before=before,
        after={"role": user.role, "active": user.active},
    )
