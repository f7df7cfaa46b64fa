"""Helpers every blueprint shares: full page or partial, roles, team-scoped lookups, CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user, login_required

from console.extensions import db
from console.models import Role
from console.services.csvfiles import csv_lines
from console.services.imports import clean_filename, store_upload
from console.services.tenancy import M, get_scoped


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
    response = Response(
        stream_with_context(csv_lines(header, rows)), mimetype="text/csv; charset=utf-8"
    )
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
