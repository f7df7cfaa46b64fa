"""Imports forms: the upload."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField


class UploadForm(FlaskForm):
    """A CSV or XLSX list to import."""

    file = FileField(
        "List file",
        validators=[FileRequired("Choose a CSV or XLSX file to upload.")],
        description="CSV (any common encoding and delimiter) or XLSX, up to 200 MB.",
        render_kw={"accept": ".csv,.txt,.tsv,.xlsx"},
    )
    submit = SubmitField("Upload")
