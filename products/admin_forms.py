"""Form fields of the catalogue admin: prices typed in units of the product's currency ("19.99") and
stored as integer minor units exactly (Decimal, never a float), and variant attributes edited as
name/value rows instead of a raw JSON box, validated by the API's own rule (validate_attributes)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from rest_framework.exceptions import ValidationError as APIValidationError

from core.error_codes import ErrorCode
from core.money import minor_to_units, units_to_minor

from .models import MAX_PRICE_CENTS
from .serializers import MAX_ATTRIBUTES, validate_attributes


class PriceField(forms.Field):
    """Shown and typed as "19.99"; cleaned to 1999 (minor units of `currency`)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 12, "placeholder": "19.99"})

    def __init__(self, *, currency: str = "USD", **kwargs: Any):
        self.currency = currency
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return minor_to_units(value, self.currency) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise forms.ValidationError("Enter an amount in units, such as 19.99.", code=ErrorCode.INVALID)
        if abs(amount) > MAX_PRICE_CENTS:  # a unit is at least one minor unit: out of range, and too big for
            # units_to_minor's Decimal context (1e999999 would overflow it)
            amount = Decimal(-1)
        try:
            minor = units_to_minor(amount, self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code=ErrorCode.MAX_DECIMAL_PLACES) from None
        if not 0 <= minor <= MAX_PRICE_CENTS:
            highest = minor_to_units(MAX_PRICE_CENTS, self.currency)
            raise forms.ValidationError(f"Enter an amount from 0 to {highest}.", code=ErrorCode.MAX_VALUE)
        return minor


def use_currency(form: forms.Form, currency: str, *field_names: str) -> None:
    """Point the form's price fields at `currency` and say it in their labels."""
    for name in field_names:
        field = form.fields[name]
        field.currency = currency
        field.label = f"{field.label} ({currency})"


class KeyValueWidget(forms.Widget):
    """Rows of name and value inputs (`<name>-key`, `<name>-value`), plus an empty row; buttons add
    and remove rows in the page (the row template is cloned, so it works in added inline forms too)."""

    template_name = "products/widgets/key_value.html"

    def format_value(self, value: Any) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return [(str(key), str(item)) for key, item in value.items()]
        return list(value or [])

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["rows"] = [*self.format_value(value), ("", "")]
        return context

    def value_from_datadict(self, data, files, name) -> list[tuple[str, str]] | None:
        if f"{name}-key" not in data and f"{name}-value" not in data:
            return None
        keys, values = data.getlist(f"{name}-key"), data.getlist(f"{name}-value")
        return list(zip(keys, values, strict=False))

    def value_omitted_from_data(self, data, files, name) -> bool:
        return f"{name}-key" not in data


class AttributesField(forms.Field):
    widget = KeyValueWidget

    def to_python(self, value: Any) -> dict[str, str]:
        if isinstance(value, dict):
            return value
        rows = [(key.strip(), item.strip()) for key, item in value or [] if key.strip() or item.strip()]
        if len(rows) > MAX_ATTRIBUTES:
            raise forms.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.", code=ErrorCode.MAX_LENGTH)
        if any(not key for key, _ in rows):
            raise forms.ValidationError("Every value needs a name.", code=ErrorCode.INVALID)
        names = [key for key, _ in rows]
        if len(set(names)) != len(names):
            raise forms.ValidationError("Each attribute name may appear once.", code=ErrorCode.UNIQUE)
        attributes = dict(rows)
        try:
            validate_attributes(attributes)
        except APIValidationError as exc:
            raise forms.ValidationError([str(message) for message in exc.detail]) from None
        return attributes

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial or {})
        except forms.ValidationError:
            return True
