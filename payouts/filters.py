import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError

from mesa247.money import RESTAURANT_ID_RE

from .models import Payout, PayoutStatus


def _supported_currency(value: str) -> None:
    if value not in settings.SUPPORTED_CURRENCIES:
        raise ValidationError(f"Unsupported currency {value!r}; use one of {', '.join(settings.SUPPORTED_CURRENCIES)}.")


def _restaurant_id(value: str) -> None:
    if not RESTAURANT_ID_RE.match(value):
        raise ValidationError("Must be 1–64 characters of [A-Za-z0-9_.-].")


class PayoutFilter(django_filters.FilterSet):
    restaurant_id = django_filters.CharFilter(field_name="restaurant_id", validators=[_restaurant_id])
    status = django_filters.ChoiceFilter(choices=PayoutStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", validators=[_supported_currency])
    as_of = django_filters.DateFilter(field_name="as_of", input_formats=["%Y-%m-%d"])

    class Meta:
        model = Payout
        fields = ["restaurant_id", "status", "currency", "as_of"]
