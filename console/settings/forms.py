"""Settings forms: teammates and their roles."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from console.models import Role
from console.services.accounts import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


class AddUserForm(FlaskForm):
    """Add a teammate with a temporary password they must change at first sign-in."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.OPERATOR.value)
    password = PasswordField(
        "Temporary password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description="Share it with them privately; they choose their own at first sign-in.",
    )
    submit = SubmitField("Add user")


class EditUserForm(FlaskForm):
    """Change a teammate's role or turn their access off."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Can sign in")
    submit = SubmitField("Save")
