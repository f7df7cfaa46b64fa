"""The campaign builder: who, what, from where, when, and the follow-up touches."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from console.models.campaigns import PERSONAS
from console.models.leads import LEAD_STATUSES
from console.services.campaigns.campaigns import ENRICHMENT, MAX_BATCH

MAX_TOUCHES = 3
VARIANTS = "ABCD"


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_int(label: str, low: int = 0, high: int | None = None, **kwargs) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=low, max=high)], **kwargs)


class CampaignForm(FlaskForm):
    """Every choice of a campaign; the selection fields also drive the live count."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    persona = SelectField(
        "Persona", choices=[SelectChoice(k, v) for k, v in PERSONAS.items()], default="GIANNA"
    )
    # Selection criteria (the seed's CampaignSelectionCriteria).
    score_min = _optional_int("Score from", 0, 100)
    score_max = _optional_int("Score to", 0, 100)
    statuses = MultiCheckboxField(
        "Lead status", choices=[SelectChoice(s, s.replace("_", " ")) for s in LEAD_STATUSES]
    )
    tags = StringField("Tagged (any of)", validators=[Length(max=500)])
    exclude_tags = StringField("Not tagged", validators=[Length(max=500)])
    states = StringField("States", validators=[Length(max=300)], description="TX, OK, FL")
    zips = TextAreaField("ZIP codes or prefixes", validators=[Length(max=5000)])
    sic_codes = StringField("SIC codes (prefixes)", validators=[Length(max=500)])
    naics_codes = StringField("NAICS codes (prefixes)", validators=[Length(max=500)])
    employees_min = _optional_int("Employees from")
    employees_max = _optional_int("Employees to")
    revenue_min = _optional_int("Revenue from ($)")
    revenue_max = _optional_int("Revenue to ($)")
    enrichment = SelectField(
        "Enrichment", choices=[SelectChoice(k, v) for k, v in ENRICHMENT.items()], default=""
    )
    never_contacted = BooleanField("Never contacted")
    last_contacted_before = DateField("Last contacted before", validators=[Optional()])
    recent_contact_days = IntegerField(
        "Leave out leads texted in the last (days)",
        default=30,
        validators=[NumberRange(min=0, max=365)],
    )
    # What and from where.
    template_id = SelectField("Opening template", coerce=int, validators=[DataRequired()])
    split_a = _optional_int("Variant A %", 0, 100, default=100)
    split_b = _optional_int("Variant B %", 0, 100)
    split_c = _optional_int("Variant C %", 0, 100)
    split_d = _optional_int("Variant D %", 0, 100)
    sender_id = SelectField("Send from", coerce=int, validators=[DataRequired()])
    # When.
    start_on = DateField("Start on", validators=[Optional()], description="Blank: as approved")
    daily_cap = IntegerField(
        "Texts a day (0 = no cap)", default=0, validators=[NumberRange(min=0, max=100_000)]
    )
    batch_size = IntegerField(
        "Batch size",
        default=500,
        validators=[NumberRange(min=1, max=MAX_BATCH)],
        description=f"Texts drafted for review at a time, at most {MAX_BATCH:,}.",
    )
    touch1_days = _optional_int("Follow-up 1 after (days)", 1, 90)
    touch1_template = SelectField("Follow-up 1 template", coerce=int, default=0)
    touch2_days = _optional_int("Follow-up 2 after (days)", 1, 90)
    touch2_template = SelectField("Follow-up 2 template", coerce=int, default=0)
    touch3_days = _optional_int("Follow-up 3 after (days)", 1, 90)
    touch3_template = SelectField("Follow-up 3 template", coerce=int, default=0)
    submit = SubmitField("Save campaign")

    def validate_score_max(self, field) -> None:
        """The score range must run low to high."""
        low = self.score_min.data
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError("Must be at least the lower score.")

    def validate_split_a(self, field) -> None:
        """Variant shares add up to 100 when more than one is used."""
        shares = [getattr(self, f"split_{v.lower()}").data or 0 for v in VARIANTS]
        if sum(1 for s in shares if s) > 1 and sum(shares) != 100:
            raise ValidationError(f"Variant shares add up to {sum(shares)}%, not 100%.")

    def split(self) -> dict[str, int]:
        """{"A": 50, "B": 50}, only the variants given a share."""
        return {
            v: getattr(self, f"split_{v.lower()}").data
            for v in VARIANTS
            if getattr(self, f"split_{v.lower()}").data
        }

    def touches(self) -> list[dict]:
        """The follow-ups filled in, in order."""
        plan = []
        for n in range(1, MAX_TOUCHES + 1):
            days = getattr(self, f"touch{n}_days").data
            template_id = getattr(self, f"touch{n}_template").data
            if days and template_id:
                plan.append({"after_days": days, "template_id": template_id})
        return plan

    def fill_touches(self, touches: list[dict]) -> None:
        """Show a campaign's follow-ups in the form."""
        for n, touch in enumerate(touches[:MAX_TOUCHES], start=1):
            getattr(self, f"touch{n}_days").data = touch.get("after_days")
            getattr(self, f"touch{n}_template").data = touch.get("template_id")
