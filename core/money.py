"""Amounts in integer minor units, formatted and parsed per currency: integer arithmetic, never a float."""

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not the cent (the default is 2 decimals).
CURRENCY_DECIMALS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"], 0),
    **dict.fromkeys(["XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def format_money(minor_units: int | None, currency: str) -> str:
    """Integer minor units as "USD 49.17" (currency first, as support staff read it): integer
    arithmetic only, never a float."""
    if minor_units is None:
        return "-"
    return f"{currency} {minor_to_units(minor_units, currency)}"


def minor_to_units(minor_units: int, currency: str) -> str:
    """4917 USD -> "49.17"; 500 JPY -> "500"; 1234 KWD -> "1.234"."""
    decimals = CURRENCY_DECIMALS.get(currency, 2)
    sign = "-" if minor_units < 0 else ""
    if decimals == 0:
        return f"{sign}{abs(minor_units)}"
    units, fraction = divmod(abs(minor_units), 10**decimals)
    return f"{sign}{units}.{fraction:0{decimals}d}"


def units_to_minor(amount: Decimal, currency: str) -> int:
    """Decimal("19.99") USD -> 1999, exactly; more decimals than the currency has is a ValueError."""
    minor = amount.scaleb(CURRENCY_DECIMALS.get(currency, 2))
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency} has {CURRENCY_DECIMALS.get(currency, 2)} decimal places at most.")
    return int(minor)
