"""Helpers every blueprint shares: full page or partial, roles, team-scoped lookups, CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from console.extensions import db
from console.models import Role
from console.models.base import INT_MAX
from console.services.csvfiles import CSV_CONTENT_TYPE, csv_lines
from console.services.lists.imports import clean_filename, store_upload
from console.services.numbers import whole_number
from console.services.tenancy import M, get_scoped


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in a route: an id the database can hold; a larger one is a 404."""

    def to_python(self, value: str) -> int:
        """The id; past the database's range, 404 at once (a ValidationError would let
        the same path's rule for another method answer 405)."""
        number = super().to_python(value)
        if number > INT_MAX:
            raise NotFound()
        return number


def int_arg(values: MultiDict, name: str, default: int | None = None) -> int | None:
    """A whole number from query or form `values` (an id, a page), else `default`."""
    number = whole_number(values.get(name))
    return default if number is None else number


def int_list(values: MultiDict, name: str) -> list[int]:
    """The ids ticked under `name`, leaving out any that are not ids."""
    return [n for n in map(whole_number, values.getlist(name)) if n is not None]


# Only the console's own files: no inline script or style, no framing, no plug-ins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https: bool, private: bool) -> dict[str, str]:
    """The headers every answer carries; HSTS over https, no-store for signed-in pages."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    if private:
        headers["Cache-Control"] = "no-store"
    return headers


def wants_partial() -> bool:
    """Whether to answer with a fragment: an htmx request that is neither a boosted page
    load nor a history restore (which needs the whole page)."""
    return (
        bool(request.htmx)
        and not request.htmx.boosted
        and not request.headers.get("HX-History-Restore-Request")
    )


def render(full: str, partial: str | None = None, **context) -> Response | str:
    """Render the `full` page, or only `partial` when htmx asked for a fragment."""
    return render_template(partial if partial and wants_partial() else full, **context)


def roles_required(*roles: Role) -> Callable:
    """Let a signed-in user through only if their role grants one of `roles`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.can(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def home_url(user) -> str:
    """Where `user` lands after signing in and on "/": a reviewer's work is the inbox;
    operators and up start on the dashboard."""
    return url_for("dashboard.index") if user.can(Role.OPERATOR) else url_for("inbox.index")


def team_get_or_404(model: type[M], row_id: int) -> M:
    """One of the signed-in user's team's rows, or 404 (also for another team's row)."""
    row = get_scoped(db.session, model, current_user.team_id, row_id)
    if row is None:
        abort(404)
    return row


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Stream `rows` as a CSV attachment.

    The rows are read after the view returns, when its database session is closed: pass
    plain values, or a generator that runs its own queries (with the relationships its rows
    read loaded eagerly), never rows built from objects the view loaded.
    """
    response = Response(stream_with_context(csv_lines(header, rows)), content_type=CSV_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file saved to the team's upload folder."""

    path: Path
    size: int
    sha256: str
    filename: str


def store_form_upload(upload, default_name: str) -> StoredUpload:
    """Save a form's uploaded file (a FileStorage) where the team's uploads wait."""
    filename = clean_filename(upload.filename or "", default_name)
    path, size, digest = store_upload(
        upload.stream, Path(current_app.config["UPLOAD_DIR"]), current_user.team_id, filename
    )
    return StoredUpload(path, size, digest, filename)


def client_ip() -> str:
    """The caller's address as the web server saw it."""
    return request.remote_addr or "unknown"
