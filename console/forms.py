"""What every form shares: number fields that refuse NaN and infinity."""

from __future__ import annotations

import math
from decimal import Decimal

from wtforms import Field, Form
from wtforms.validators import StopValidation


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
