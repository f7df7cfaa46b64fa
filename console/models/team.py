"""Teams (tenants), their users and sign-in attempts."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import TeamOwned, Timestamps, UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do. A role grants its own work and, for the higher ones, more."""

    ADMIN = "admin"
    MANAGER = "manager"
    OPERATOR = "operator"
    REVIEWER = "reviewer"

    @property
    def grants(self) -> frozenset[Role]:
        """The roles whose work this role may do."""
        return ROLE_GRANTS[self]

    @property
    def label(self) -> str:
        """The role's name as people read it."""
        return self.value.capitalize()


ROLE_GRANTS: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.MANAGER: frozenset({Role.MANAGER, Role.OPERATOR, Role.REVIEWER}),
    Role.OPERATOR: frozenset({Role.OPERATOR}),
    Role.REVIEWER: frozenset({Role.REVIEWER}),
}


class Team(Timestamps, db.Model):
    """A tenant: one broker, advisory firm or investor group, with its own data."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Next number handed out for lead codes (LEAD-<year>-<number>), per team.
    lead_seq: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    users: Mapped[list[User]] = relationship(back_populates="team", order_by="User.email")

    def __repr__(self) -> str:
        return f"<Team {self.slug}>"


class User(UserMixin, Timestamps, db.Model):
    """A person who signs in to work one team's data."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.OPERATOR.value)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Rotated on sign-out, password change and loss of access: every session of the
    # user (remember-me cookies too) carries it, so all of them end at once.
    session_token: Mapped[str] = mapped_column(
        String(43), default=lambda: secrets.token_urlsafe(32)
    )
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The IANA zone the user reads times in; empty means the team's zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")

    team: Mapped[Team] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def role_enum(self) -> Role:
        """The user's role as a `Role`."""
        return Role(self.role)

    def can(self, role: Role | str) -> bool:
        """Whether this user may do the work of `role`."""
        return Role(role) in self.role_enum.grants

    def get_id(self) -> str:
        """Session identity: the id plus the current session token."""
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginAttempt(db.Model):
    """One sign-in attempt, kept as the record of who tried to sign in from where."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class LoginThrottle(db.Model):
    """Failed sign-ins in a row at one account, from everywhere (`ip` empty) or one address.

    Counted before the password is checked, so parallel guesses cannot pass the limit.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("email", "ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invitation(TeamOwned, Timestamps, db.Model):
    """An admin's invitation to join a team, accepted once through a secret link."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.OPERATOR.value)
    # Only a hash is kept: the link itself is shown once, to the admin who invited.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    team: Mapped[Team] = relationship()

    @property
    def role_enum(self) -> Role:
        """The role the invitee will have."""
        return Role(self.role)
