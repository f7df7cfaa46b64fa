"""The lead page's forms: the owner's and the business's fields, a note, the status,
the assignee, a deal, a campaign. The editing service owns what a valid value is."""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from wtforms import DecimalField, Field, Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from console.forms import Finite
from console.models.leads import LEAD_STATUSES
from console.services.deals.notes import MAX_NOTE
from console.services.lists import editing


def _checked(check: Callable[[str], str]) -> Callable[[Form, Field], None]:
    """A validator that asks the editing service whether the typed value is one it takes."""

    def validate(_form: Form, field: Field) -> None:
        try:
            check(field.data or "")
        except editing.EditProblem as problem:
            raise ValidationError(str(problem)) from problem

    return validate


class OwnerForm(FlaskForm):
    """The owner's name and title."""

    full_name = StringField("Full name", [Length(max=200)])
    first_name = StringField("First name", [Length(max=80)])
    last_name = StringField("Last name", [Length(max=80)])
    title = StringField("Title", [Length(max=120)], description="Owner, President, CEO…")


class BusinessForm(FlaskForm):
    """The business's name, address and what it does."""

    name = StringField(
        "Business name", [InputRequired("A business needs a name."), Length(max=255)]
    )
    street = StringField("Street", [Length(max=255)])
    unit = StringField("Unit", [Length(max=40)])
    city = StringField("City", [Length(max=120)])
    state = StringField("State", [_checked(editing.checked_state)], description="TX or Texas")
    zip = StringField("ZIP", [_checked(editing.checked_zip)], description="5 or 9 digits")
    county = StringField("County", [Length(max=120)])
    website = StringField("Website", [_checked(editing.checked_website)])
    industry = StringField("Industry", [Length(max=255)])
    sic_code = StringField("SIC code", [_checked(editing.checked_sic)])


class NoteForm(FlaskForm):
    """A note on the lead."""

    body = TextAreaField("Note", [InputRequired("Write something first."), Length(max=MAX_NOTE)])


class StatusForm(FlaskForm):
    """The lead's status; do-not-contact asks why."""

    status = SelectField(
        "Status",
        choices=[SelectChoice(s, s.replace("_", " ").capitalize()) for s in LEAD_STATUSES],
    )
    reason = StringField(
        "Reason (for do not contact)",
        [Length(max=500)],
        description="Do not contact suppresses every number of the lead.",
    )

    def validate_reason(self, field: Field) -> None:
        """Do-not-contact is kept with the reason it was asked for."""
        if self.status.data == "do_not_contact" and not (field.data or "").strip():
            raise ValidationError("Say why this lead must not be contacted.")


class AssignForm(FlaskForm):
    """Who works the lead; the choices are the team's people."""

    assignee_id = SelectField("Assigned to", coerce=int, choices=[])


class DealForm(FlaskForm):
    """Convert the lead to a deal: the pipeline and stage it starts in, and its value."""

    stage = SelectField("Pipeline and stage", coerce=int, choices=[])
    value = DecimalField(
        "Value ($)",
        validators=[Optional(), Finite(), NumberRange(min=0, max=10**12)],
        places=2,
    )

    def offer(self, groups: list) -> DealForm:
        """Offer the open stages of each pipeline (`pipelines.open_stage_groups`)."""
        self.stage.choices = {
            name: [SelectChoice(stage.id, stage.name) for stage in stages]
            for name, stages in groups
        }
        return self


class CampaignForm(FlaskForm):
    """The draft or active campaign to add the lead to."""

    campaign_id = SelectField("Campaign", coerce=int, choices=[])


class TagForm(FlaskForm):
    """A tag to add."""

    tag = StringField("Tag", [InputRequired("Type a tag to add."), Length(max=40)])
