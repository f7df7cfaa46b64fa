"""Settings forms: teammates and their roles, senders, sending rules, texting hours, the
rules for answering owners' replies, and the team's pipelines, stages and lost reasons."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from console.forms import Finite, account_email
from console.models import Role
from console.models.base import INT_MAX
from console.models.campaigns import DEFAULT_SENDER_MPS, SENDER_KINDS
from console.models.deals import OUTCOMES, REQUIRABLE
from console.services.campaigns.tokens import OPT_OUT_DEFAULT, has_opt_out
from console.services.deals.pipeline_setup import STALE_DAYS_MAX, StageFields
from console.services.sending.policy import (
    REPLY_TEXT_DEFAULTS,
    REPLY_TEXT_MAX,
    WEEKDAYS,
    ReplySettings,
    SendingSettings,
    reply_text,
)
from console.services.sending.senders import MPS_RANGE

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


class AddUserForm(FlaskForm):
    """Invite a teammate, who chooses their own password through the invitation link."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), account_email])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.OPERATOR.value)
    submit = SubmitField("Invite user")


class EditUserForm(FlaskForm):
    """Change a teammate's role or turn their access off."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Can sign in")
    submit = SubmitField("Save")


class SenderForm(FlaskForm):
    """A Twilio number or Messaging Service texts go out from (checked by the senders
    service, whose problems land on these fields)."""

    label = StringField("Name", validators=[DataRequired(), Length(max=80)])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(value, label) for value, label in SENDER_KINDS.items()],
        default="number",
    )
    address = StringField(
        "Number or service SID",
        validators=[DataRequired(), Length(max=40)],
        description="A number as +15125550100; a Messaging Service as MG and 32 hex digits.",
    )
    mps = FloatField(
        "Messages a second",
        default=DEFAULT_SENDER_MPS,
        validators=[
            InputRequired("Give a number, such as 1."),
            Finite(),
            NumberRange(*MPS_RANGE),
        ],
        description="What Twilio allows this sender: 1 for a sole proprietor, 3 toll-free, "
        "your 10DLC tier otherwise.",
    )
    daily_cap = IntegerField(
        "Texts a day",
        default=0,
        validators=[
            InputRequired("Give a daily cap, 0 for none."),
            NumberRange(min=0),
            NumberRange(max=INT_MAX, message="More texts a day than a sender can hold."),
        ],
        description="The carriers' daily cap for this sender; 0 for no cap of our own.",
    )
    sender_name = StringField(
        "Signing name",
        validators=[Optional(), Length(max=80)],
        description="The person texts from this sender are signed by ({senderName}), "
        "such as Dana Reyes. Blank: the name of the teammate who sends them.",
    )


class MultiCheckboxField(SelectMultipleField):
    """A choice of several values shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SendingRulesForm(FlaskForm):
    """The team's sending rules; its `data` is what policy.settings_from_form reads."""

    window_start = TimeField("Send from", validators=[InputRequired("Give a start time.")])
    window_end = TimeField("Until", validators=[InputRequired("Give an end time.")])
    window_days = MultiCheckboxField(
        "On", choices=[SelectChoice(str(day), name) for day, name in enumerate(WEEKDAYS)]
    )
    opt_out_wording = StringField(
        "Opt-out wording for first touches",
        validators=[Length(max=120)],
        description=f'Blank means "{OPT_OUT_DEFAULT}".',
        render_kw={"placeholder": OPT_OUT_DEFAULT},
    )
    manager_approval_over = IntegerField(
        "Batches need a manager over",
        validators=[InputRequired("Give a number of texts."), NumberRange(min=0, max=2000)],
        description="Texts in a batch; 0 sends every batch to a manager, 2,000 none.",
    )
    auto_approve_followups = BooleanField("Follow-up batches approve themselves")
    filtering_pause_percent = DecimalField(
        "Pause a sender when carriers filter more than (%)",
        places=None,
        validators=[
            InputRequired("Give a percentage."),
            Finite(),
            NumberRange(0.5, 50, "A percentage from 0.5 to 50."),
        ],
    )
    recipient_daily_cap = IntegerField(
        "Texts to one number per 24 h",
        validators=[Optional(), NumberRange(min=0, max=100)],
        description="0 means only the states' own caps apply.",
    )
    segment_price = DecimalField(
        "Price per segment ($)",
        places=None,
        validators=[
            InputRequired("Give a price."),
            Finite(),
            NumberRange(0, 1, "A price from $0 to $1."),
        ],
        description="Used for estimates until Twilio reports a text's price.",
    )

    def validate_window_end(self, field) -> None:
        """The window closes after it opens."""
        start = self.window_start.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError("The end comes after the start.")

    def validate_opt_out_wording(self, field) -> None:
        """The team's wording still tells an owner how to opt out."""
        wording = (field.data or "").strip()
        if wording and not has_opt_out(wording):
            raise ValidationError(
                f'Say how to opt out, as in "{OPT_OUT_DEFAULT}" or "Text STOP to unsubscribe".'
            )

    def validate_window_days(self, field) -> None:
        """At least one sending day."""
        if not field.data:
            raise ValidationError("Choose at least one day.")

    @staticmethod
    def initial(settings: SendingSettings) -> dict:
        """The form's values for the team's current settings."""
        window = settings.team_window
        return {
            "window_start": window.start,
            "window_end": window.end,
            "window_days": [str(day) for day in sorted(settings.window_days)],
            "opt_out_wording": settings.opt_out_wording,
            "manager_approval_over": settings.manager_approval_over,
            "auto_approve_followups": settings.auto_approve_followups,
            "filtering_pause_percent": Decimal(f"{settings.filtering_pause_rate * 100:g}"),
            "recipient_daily_cap": settings.recipient_daily_cap,
            "segment_price": settings.price,
        }


class StateHoursForm(FlaskForm):
    """One state's texting hours as the team keeps them (checked by quiethours)."""

    start = TimeField("Weekdays from", validators=[InputRequired("Give a start time.")])
    end = TimeField("Until", validators=[InputRequired("Give an end time.")])
    saturday_start = TimeField("Saturday from", validators=[Optional()])
    saturday_end = TimeField("Saturday until", validators=[Optional()])
    sunday_start = TimeField("Sunday from", validators=[Optional()])
    sunday_end = TimeField("Sunday until", validators=[Optional()])
    no_sundays = BooleanField("No texts on Sundays")
    no_holidays = BooleanField("No texts on legal holidays")
    per_24h_cap = IntegerField(
        "Texts to one number per 24 h",
        validators=[Optional(), NumberRange(min=1, max=100)],
        description="Blank for no cap.",
    )
    note = StringField("Note", validators=[Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        """The fields, and a Saturday or Sunday window with both ends or neither (checked
        here: a blank optional field skips its own validators)."""
        valid = super().validate(extra_validators)
        for day in ("saturday", "sunday"):
            start, end = self[f"{day}_start"], self[f"{day}_end"]
            if not (start.errors or end.errors) and bool(start.data) != bool(end.data):
                missing = end if start.data else start
                missing.errors.append(
                    f"Give both a start and an end for {day.capitalize()}, or neither."
                )
                valid = False
        return valid

    def rule_fields(self) -> dict:
        """The row as `quiethours.rule_settings` writes one."""

        def hhmm(value):
            return value.strftime("%H:%M")

        def pair(start, end):
            return [hhmm(start.data), hhmm(end.data)] if start.data and end.data else None

        return {
            "start": hhmm(self.start.data),
            "end": hhmm(self.end.data),
            "saturday": pair(self.saturday_start, self.saturday_end),
            "sunday": pair(self.sunday_start, self.sunday_end),
            "no_sundays": bool(self.no_sundays.data),
            "no_holidays": bool(self.no_holidays.data),
            "per_24h_cap": self.per_24h_cap.data or None,
            "note": (self.note.data or "").strip(),
        }

    @staticmethod
    def initial(rule) -> dict:
        """The form's values for a quiethours.StateRule."""
        saturday = rule.saturday or (None, None)
        sunday = rule.sunday or (None, None)
        return {
            "start": rule.start,
            "end": rule.end,
            "saturday_start": saturday[0],
            "saturday_end": saturday[1],
            "sunday_start": sunday[0],
            "sunday_end": sunday[1],
            "no_sundays": rule.no_sundays,
            "no_holidays": rule.no_holidays,
            "per_24h_cap": rule.per_24h_cap,
            "note": rule.note,
        }


LINK_MAX = 200
AUTO_SEND_CONFIDENCE = (50, 100)
AUTO_SEND_PER_LEAD = (0, 10)


def _reply_text_field(label: str) -> TextAreaField:
    """A textarea for one of the team's automatic texts (blank puts the default back)."""
    return TextAreaField(
        label,
        validators=[Length(max=REPLY_TEXT_MAX, message=f"At most {REPLY_TEXT_MAX} characters.")],
        description="Blank puts back the default. {senderName} is the team's name.",
    )


class RepliesForm(FlaskForm):
    """The team's rules for answering owners; its `data` is what
    policy.reply_settings_from_form reads. Texts are checked as the team's owners
    would get them, so the form takes the team's `sender` name and opt-out wording."""

    twilio_advanced_opt_out = BooleanField("Twilio Advanced Opt-Out is on for our senders")
    opt_out_confirmation = _reply_text_field("Opt-out confirmation")
    opt_in_confirmation = _reply_text_field("Opt-in confirmation")
    help_text = _reply_text_field("Help text")
    ai_enabled = BooleanField("Use Claude to read replies and draft answers")
    allow_links = BooleanField("Drafts may include the team's link")
    link = StringField(
        "Link",
        validators=[Length(max=LINK_MAX)],
        description="The one address drafts may carry, as https://example.com/call.",
        render_kw={"placeholder": "https://", "inputmode": "url"},
    )
    auto_send = BooleanField("Send some replies without a person")
    auto_send_min_confidence = IntegerField(
        "Minimum confidence (%)",
        validators=[
            InputRequired("Give a percentage."),
            NumberRange(*AUTO_SEND_CONFIDENCE, "A percentage from 50 to 100."),
        ],
        description="How sure the reading of the owner's text must be, from 50 to 100.",
    )
    auto_send_max_per_lead = IntegerField(
        "Automatic replies per lead, at most",
        validators=[
            InputRequired("Give a number of replies."),
            NumberRange(*AUTO_SEND_PER_LEAD, "A number from 0 to 10."),
        ],
        description="0 sends none without a person.",
    )
    response_business_hours = BooleanField("Count response times in business hours only")

    def __init__(self, *args, sender: str = "", team_wording: str = "", **kwargs) -> None:
        """The form, checking texts for a team named `sender`."""
        super().__init__(*args, **kwargs)
        self.sender = sender
        self.team_wording = team_wording

    def _check_text(self, field) -> None:
        """A text that owners can receive: see policy.reply_text."""
        if field.errors:
            return  # too long: Length said so, and the rest can wait for a shorter text
        problems = reply_text(field.name, field.data, self.sender, self.team_wording).problems
        if problems:
            raise ValidationError(" ".join(problems))

    validate_opt_out_confirmation = _check_text
    validate_opt_in_confirmation = _check_text
    validate_help_text = _check_text

    def validate_link(self, field) -> None:
        """An http(s) address, required when drafts may carry it."""
        link = (field.data or "").strip()
        if not link:
            if self.allow_links.data:
                raise ValidationError("Give the link drafts may carry, or turn links off.")
            return
        if not _is_web_address(link):
            raise ValidationError("A web address starting with https:// or http://.")

    @staticmethod
    def initial(settings: ReplySettings) -> dict:
        """The form's values for the team's current settings (texts as they are sent)."""
        texts = {
            name: getattr(settings, name) or default
            for name, default in REPLY_TEXT_DEFAULTS.items()
        }
        return {
            "twilio_advanced_opt_out": settings.twilio_advanced_opt_out,
            **texts,
            "ai_enabled": settings.ai_enabled,
            "allow_links": settings.allow_links,
            "link": settings.link,
            "auto_send": settings.auto_send,
            "auto_send_min_confidence": settings.auto_send_min_confidence,
            "auto_send_max_per_lead": settings.auto_send_max_per_lead,
            "response_business_hours": settings.response_business_hours,
        }


def _is_web_address(link: str) -> bool:
    """Whether `link` is an http(s) address with a host name, and nothing odd in it."""
    if any(c.isspace() for c in link) or "<" in link or ">" in link or '"' in link:
        return False
    try:
        parts = urlsplit(link)
        host = parts.hostname or ""
    except ValueError:
        return False
    labels = host.split(".")
    return (
        parts.scheme in ("http", "https")
        and not (parts.username or parts.password)
        and len(labels) >= 2
        and all(labels)
    )


class PipelineNameForm(FlaskForm):
    """A pipeline's name: a new pipeline's, or a new name for one."""

    name = StringField(
        "Name", validators=[DataRequired("Give the pipeline a name."), Length(max=80)]
    )


class LostReasonForm(FlaskForm):
    """A lost reason's name: a new reason's, or a new name for one."""

    name = StringField(
        "Reason", validators=[DataRequired("Give the reason a name."), Length(max=120)]
    )


class StageForm(FlaskForm):
    """A stage of a pipeline: name, chance of winning, when its deals go stale, what it
    asks for on entry and its outcome (the rules between stages are the service's)."""

    name = StringField("Name", validators=[DataRequired("Give the stage a name."), Length(max=80)])
    probability = IntegerField(
        "Win probability (%)",
        default=0,
        validators=[
            InputRequired("Give a probability from 0 to 100."),
            NumberRange(0, 100, "Give a probability from 0 to 100."),
        ],
    )
    stale_days = IntegerField(
        "Stale after (days)",
        validators=[Optional(), NumberRange(1, STALE_DAYS_MAX, "Give 1 to 3650 days, or none.")],
        description="Days without activity; blank: never stale.",
    )
    required = MultiCheckboxField(
        "Required on entry",
        choices=[SelectChoice(key, label) for key, label in REQUIRABLE.items()],
    )
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(key, label) for key, label in OUTCOMES.items()],
        default="open",
    )

    @staticmethod
    def initial(stage) -> dict:
        """The form's values for a saved stage."""
        return {
            "name": stage.name,
            "probability": stage.probability,
            "stale_days": stage.stale_days,
            "required": list(stage.required_fields or []),
            "outcome": stage.outcome,
        }

    def stage_fields(self) -> StageFields:
        """The stage as typed, for the pipeline setup service."""
        return StageFields(
            name=self.name.data or "",
            probability=self.probability.data or 0,
            stale_days=self.stale_days.data,
            required=list(self.required.data or []),
            outcome=self.outcome.data,
        )


class AddStageForm(StageForm):
    """A new stage, and the stage it comes after (0: first)."""

    after = SelectField("Place after", coerce=int, choices=[])

    def place_after(self, stages) -> AddStageForm:
        """Offer the pipeline's `stages`; by default after its last open stage."""
        self.after.choices = [SelectChoice(0, "At the start")] + [
            SelectChoice(stage.id, stage.name) for stage in stages
        ]
        if self.after.data is None or not self.is_submitted():
            open_ids = [stage.id for stage in stages if stage.is_open]
            self.after.data = open_ids[-1] if open_ids else 0
        return self
