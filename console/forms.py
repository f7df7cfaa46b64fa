"""What every form shares: number fields that refuse NaN and infinity, the one check of
an account's email, and the time-zone menu (a user's own, and the team's)."""

from __future__ import annotations

import math
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import Field, Form, SelectField, SubmitField
from wtforms.validators import StopValidation, ValidationError

from console.services.accounts import AccountError, check_email


def account_email(_form: Form, field: Field) -> None:
    """Accept only an email people can sign in with (the accounts service decides)."""
    try:
        check_email(field.data or "")
    except AccountError as exc:
        raise ValidationError(str(exc)) from exc


class Finite:
    """A decimal or float field holds an ordinary number, never NaN or infinity."""

    def __init__(self, message: str = "Type a number, such as 1.5.") -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        """Stop the field's other checks (which cannot compare NaN) with a form error."""
        value = field.data
        if value is None:
            return
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise StopValidation(self.message)


class ZoneForm(FlaskForm):
    """A time zone picked from the list; the service says when a posted one is unknown."""

    time_zone = SelectField("Time zone", validate_choice=False)
    submit = SubmitField("Save")

    def offer(self, zones: list[tuple[str, str]], blank: str | None = None) -> ZoneForm:
        """Fill the menu with `zones`, after a blank choice labelled `blank` when given."""
        self.time_zone.choices = ([("", blank)] if blank is not None else []) + zones
        return self
