"""The template editor's form: a template's fields and up to four variant bodies."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from console.models.campaigns import PERSONAS, TEMPLATE_CATEGORIES, MessageTemplate
from console.services.campaigns.template_library import VERTICALS
from console.services.campaigns.templates import TOUCHES, VARIANT_LETTERS

# The body field of each variant, by letter: A is the template's body.
VARIANT_FIELDS: dict[str, str] = {
    letter: "body" if letter == "A" else f"variant_{letter.lower()}" for letter in VARIANT_LETTERS
}


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in labels.items()]


class TemplateForm(FlaskForm):
    """Create or edit a template; the service checks names, choices and every body."""

    name = StringField("Name")
    persona = SelectField("Persona", choices=_choices(PERSONAS), default="GIANNA")
    category = SelectField("Category", choices=_choices(TEMPLATE_CATEGORIES))
    vertical = SelectField("Vertical", choices=_choices(VERTICALS), default="general")
    touch = SelectField(
        "Touch",
        choices=_choices(TOUCHES),
        default="first",
        description="A first touch must carry opt-out wording.",
    )
    body = TextAreaField("Variant A")
    variant_b = TextAreaField("Variant B")
    variant_c = TextAreaField("Variant C")
    variant_d = TextAreaField("Variant D")
    lead_code = StringField("Preview for lead", description="A lead code, e.g. LEAD-2026-000123.")

    @classmethod
    def of(cls, template: MessageTemplate) -> TemplateForm:
        """The form filled from a saved template (a posted form wins when there is one)."""
        form = cls(obj=template)
        if not form.is_submitted():
            for letter, body in template.bodies.items():
                if letter in VARIANT_FIELDS:
                    getattr(form, VARIANT_FIELDS[letter]).data = body
        return form

    def bodies(self) -> dict[str, str]:
        """Each variant's body as typed, by letter, blanks included."""
        return {letter: getattr(self, name).data or "" for letter, name in VARIANT_FIELDS.items()}

    def values(self) -> dict:
        """The values the template service saves."""
        bodies = list(self.bodies().values())
        return {
            "name": self.name.data,
            "persona": self.persona.data,
            "category": self.category.data,
            "vertical": self.vertical.data,
            "touch": self.touch.data,
            "body": bodies[0],
            "variants": bodies[1:],
        }

    def shown_letters(self, extra: int = 0) -> list[str]:
        """The variants the editor shows: A, those with text, and `extra` blank ones after."""
        bodies = self.bodies()
        filled = [letter for letter, body in bodies.items() if letter == "A" or body.strip()]
        last = VARIANT_LETTERS.index(filled[-1]) + 1 + extra
        return list(VARIANT_LETTERS[: min(last, len(VARIANT_LETTERS))])

    def remove_variant(self, letter: str) -> None:
        """Take variant `letter` (B to D) out, the later ones moving up."""
        bodies = [b for other, b in self.bodies().items() if other not in ("A", letter)]
        bodies += [""] * (len(VARIANT_LETTERS) - 1 - len(bodies))
        for other, body in zip(VARIANT_LETTERS[1:], bodies, strict=True):
            getattr(self, VARIANT_FIELDS[other]).data = body
