"""Form fields shared by the back office's forms."""

from django import forms
from django.core.validators import RegexValidator


class MinorUnitsFormField(forms.CharField):
    """An integer number of minor units typed into a form: 1500 or -1500, never 1500.0 or 1,500
    (Django's IntegerField would quietly read 1500.0 as 1500)."""

    default_validators = [
        RegexValidator(r"\A-?\d+\Z", "Must be an integer number of minor units (no decimals, no separators).")
    ]

    def __init__(self, **kwargs):
        super().__init__(max_length=14, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        return int(text) if text else None
