"""Teams, users, invitations, passwords and sign-in, including the throttle on failed attempts."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from console.models import Invitation, LoginAttempt, LoginThrottle, Role, Team, User
from console.models.base import utcnow
from console.services import audit
from console.services.sql import insert_for
from console.services.tenancy import of_team, scoped

MIN_PASSWORD_LENGTH = 10
DEFAULT_HASH_METHOD = "scrypt"
INVITATION_LIFETIME = timedelta(days=7)


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


def check_email(email: str) -> str:
    """The address, normalized, if people can sign in with it (the one check every
    place that takes an account's email uses); else an `AccountError` saying why."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        message = f"{email.strip()!r} cannot be used to sign in: {exc}"
        raise AccountError(message, field="email") from exc
    return normalize_email(email)


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
        from console.services.deals import pipelines  # deals sit above accounts

        pipelines.ensure_pipelines(session, team.id)
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
    email = check_email(email)
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


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failed sign-ins in a row an account takes before it backs off, and how long.

    One address gets `address_limit` failures at one account, all addresses together
    `account_limit`; past a limit each further attempt waits `first_delay` seconds,
    doubling per failure up to `max_delay`, so no lock lasts. A streak whose last failure
    is `forget_after` seconds old starts again.
    """

    address_limit: int = 5
    account_limit: int = 20
    first_delay: int = 60
    max_delay: int = 900
    forget_after: int = 86_400

    @classmethod
    def of(cls, config: Mapping) -> ThrottlePolicy:
        """The policy an app's configuration sets."""
        return cls(
            address_limit=config["LOGIN_THROTTLE_LIMIT"],
            account_limit=config["LOGIN_THROTTLE_ACCOUNT_LIMIT"],
            first_delay=config["LOGIN_THROTTLE_WINDOW_SECONDS"],
            max_delay=config["LOGIN_THROTTLE_MAX_SECONDS"],
        )

    def delay(self, failures: int, limit: int) -> int:
        """Seconds to back off after `failures` in a row against `limit`."""
        if failures < limit:
            return 0
        return min(self.max_delay, self.first_delay * 2 ** min(failures - limit, 30))


@lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    """A hash made like real accounts' hashes, checked when there is no account to check,
    so an unknown email takes as long to refuse as a known one."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str,
    policy: ThrottlePolicy,
    hash_method: str = DEFAULT_HASH_METHOD,
    now: datetime | None = None,
) -> SignInResult:
    """Check a password, unless this account backs off from this address or from all.

    The attempt is counted as a failure (and committed) before the password is checked,
    so parallel guesses cannot pass the limit; a success clears the count. Unknown
    emails, disabled accounts and wrong passwords all cost one hash check.
    """
    now = now or utcnow()
    email = normalize_email(email)
    # The address's own count first: an address already backing off cannot add to the
    # account-wide count, which would let one address lock the owner out everywhere.
    for ip_key, limit in ((ip, policy.address_limit), ("", policy.account_limit)):
        retry_after = _count_attempt(session, email, ip_key, limit, policy, now)
        if retry_after:
            session.commit()
            return SignInResult(user=None, throttled=True, retry_after=retry_after)
    session.commit()

    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    password_hash = user.password_hash if user is not None else _dummy_hash(hash_method)
    ok = check_password_hash(password_hash, password) and user is not None and user.active
    session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, at=now))
    if ok:
        user.last_login_at = now
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.email == email, LoginThrottle.ip.in_((ip, "")))
            .values(failures=0, last_failure_at=None, blocked_until=None)
        )
    return SignInResult(user=user if ok else None)


def _count_attempt(
    session: Session, email: str, ip: str, limit: int, policy: ThrottlePolicy, now: datetime
) -> int:
    """Count one failure at (`email`, `ip`) unless it is backing off: then the seconds left.

    One conditional UPDATE both checks the back-off and counts, so two requests can
    never both take the last attempt allowed.
    """
    session.execute(
        insert_for(session)(LoginThrottle)
        .values(email=email, ip=ip, failures=0)
        .on_conflict_do_nothing(index_elements=["email", "ip"])
    )
    key = (LoginThrottle.email == email, LoginThrottle.ip == ip)
    stale = or_(
        LoginThrottle.last_failure_at.is_(None),
        LoginThrottle.last_failure_at < now - timedelta(seconds=policy.forget_after),
    )
    failures = session.scalar(
        update(LoginThrottle)
        .where(*key, or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now))
        .values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1),
            last_failure_at=now,
        )
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)
    )
    if failures is None:
        blocked_until = session.scalar(select(LoginThrottle.blocked_until).where(*key))
        return max(1, math.ceil((blocked_until - now).total_seconds()))
    if delay := policy.delay(failures, limit):
        session.execute(
            update(LoginThrottle)
            .where(*key)
            .values(blocked_until=now + timedelta(seconds=delay))
            .execution_options(synchronize_session=False)
        )
    return 0


def end_sessions(user: User) -> None:
    """End every session of `user`, remember-me cookies included, by a new session token."""
    user.session_token = secrets.token_urlsafe(32)


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
    end_sessions(user)
    user.must_change_password = False
    audit.record(
        session, team_id=user.team_id, actor_id=user.id, action="user.password_changed", entity=user
    )


def teammates(session: Session, team_id: int) -> list[User]:
    """A team's users by email: whom a task, a deal or a reply can be given to."""
    return list(session.scalars(scoped(User, team_id).order_by(User.email)))


def team_users(session: Session, team_id: int) -> list[User]:
    """A team's users, admins first, then by email."""
    users = session.scalars(scoped(User, team_id)).all()
    order = {role.value: i for i, role in enumerate(Role)}
    return sorted(users, key=lambda u: (not u.active, order[u.role], u.email))


def acting_user(session: Session, team_id: int, email: str, role: Role) -> User:
    """The team's active user `email`, allowed the work of `role` (as the pages allow it),
    for commands run on someone's behalf; AccountError otherwise."""
    user = session.scalars(
        scoped(User, team_id).where(User.email == normalize_email(email or ""))
    ).first()
    if user is None or not user.active:
        raise AccountError(f"No active user {email!r} in this team.")
    if not user.can(role):
        raise AccountError(f"{user.email} has the {user.role} role; this takes {role} or above.")
    return user


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
        end_sessions(user)
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


@dataclass(frozen=True)
class IssuedInvitation:
    """A recorded invitation and its link's secret, which is not stored and shown once."""

    invitation: Invitation
    token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_user(
    session: Session,
    team: Team,
    *,
    email: str,
    role: Role | str,
    name: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> IssuedInvitation:
    """Invite `email` to `team` as `role`.

    The outcome is the same whether or not the address already has an account, in this
    team or another, so adding a user tells an admin nothing about other teams; an
    invitation for a taken address simply can never be accepted.
    """
    email, role, now = check_email(email), Role(role), now or utcnow()
    session.execute(  # a new invitation replaces the open one for the same address
        delete(Invitation).where(
            of_team(Invitation, team.id),
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        team_id=team.id,
        email=email,
        name=name.strip(),
        role=role.value,
        token_hash=_token_hash(token),
        invited_by_id=actor.id if actor else None,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        team_id=team.id,
        actor_id=actor.id if actor else None,
        action="user.invited",
        entity=invitation,
        after={"email": email, "role": role.value},
    )
    return IssuedInvitation(invitation=invitation, token=token)


def pending_invitations(session: Session, team_id: int, now: datetime | None = None) -> list:
    """A team's invitations that can still be accepted as far as the team can tell."""
    now = now or utcnow()
    return session.scalars(
        scoped(Invitation, team_id)
        .where(Invitation.accepted_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc())
    ).all()


def open_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation | None:
    """The invitation a link stands for, if it can be accepted now; None otherwise,
    whatever the reason (unknown, used, expired, or the address already has an account)."""
    now = now or utcnow()
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    ).one_or_none()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        return None
    if session.scalars(select(User.id).where(User.email == invitation.email)).first():
        return None
    return invitation


def accept_invitation(
    session: Session,
    invitation: Invitation,
    *,
    password: str,
    name: str = "",
    hash_method: str = DEFAULT_HASH_METHOD,
    now: datetime | None = None,
) -> User:
    """Create the invitee's account with the password they chose; a link works once."""
    check_password_strength(password)
    now = now or utcnow()
    taken = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise AccountError("This invitation has already been used.")
    user = create_user(
        session,
        invitation.team,
        email=invitation.email,
        password=password,
        role=invitation.role,
        name=name or invitation.name,
        hash_method=hash_method,
    )
    user.last_login_at = now  # accepting signs them in
    return user
