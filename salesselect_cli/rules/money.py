"""Money: parsed to integer cents, never float; shown with thousands separators."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import _

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}
MAX_CENTS = 10**15  # a thousand billion: beyond any deal, well inside SQLite's integer

_SYMBOL_RE = re.compile(r"^(€|\$|£|eur|usd|gbp|chf)\s*|\s*(€|\$|£|eur|usd|gbp|chf)$", re.IGNORECASE)


def parse_money(text: str | int | Decimal) -> int:
    """Parse '12000', '12,000.50', '12.000,50', '€ 12k' into integer cents. Refuses negatives and junk."""
    if isinstance(text, int):
        text = str(text)
    raw = str(text).strip()
    cleaned = _SYMBOL_RE.sub("", raw).replace(" ", "").replace("_", "").replace("\u00a0", "")
    multiplier = 1
    if cleaned[-1:].lower() == "k":
        multiplier, cleaned = 1000, cleaned[:-1]
    if cleaned.startswith("-"):
        raise Invalid(_("value must not be negative: '{text}'").format(text=raw))
    if not cleaned or not re.fullmatch(r"[0-9.,]{1,40}", cleaned):
        raise Invalid(_("value must be a number like 12000 or 12,000.50, not '{text}'").format(text=raw))
    cleaned = _normalise_separators(cleaned, raw)
    if len(cleaned.split(".")[0].lstrip("0")) > 13:
        raise Invalid(_("value is too large: '{text}'").format(text=raw))
    try:
        amount = Decimal(cleaned) * multiplier
    except InvalidOperation:
        raise Invalid(_("value must be a number like 12000 or 12,000.50, not '{text}'").format(text=raw)) from None
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid(_("value has more than two decimals: '{text}'").format(text=raw))
    cents = int(amount * 100)
    if cents >= MAX_CENTS:
        raise Invalid(_("value is too large: '{text}'").format(text=raw))
    return cents


def _normalise_separators(number: str, raw: str) -> str:
    """One decimal separator at most: the last of '.'/',' when followed by 1-2 digits."""
    last_dot, last_comma = number.rfind("."), number.rfind(",")
    last = max(last_dot, last_comma)
    if last == -1:
        return number
    tail = number[last + 1 :]
    separator = number[last]
    if len(tail) in (1, 2) and number.count(separator) == 1:
        whole = number[:last].replace(".", "").replace(",", "")
        return f"{whole}.{tail}"
    # every separator groups thousands: each group after the first must have 3 digits
    groups = re.split(r"[.,]", number)
    first = groups[0]
    if all(len(group) == 3 for group in groups[1:]) and 1 <= len(first) <= 3 and not first.startswith("0"):
        return "".join(groups)
    raise Invalid(_("value must be a number like 12000 or 12,000.50, not '{text}'").format(text=raw))


def cents_to_decimal_string(cents: int | None) -> str:
    """Cents as the JSON money string: 1200000 -> '12000.00'."""
    cents = cents or 0
    return f"{cents // 100}.{cents % 100:02d}"


def format_money(cents: int | None, currency: str = "EUR", decimals: bool = False, dutch: bool | None = None) -> str:
    """Cents for people: '€12,000' (or '€12,000.50' when there are cents or `decimals`).

    Dutch (`dutch`, default: the interface language) writes '€ 12.000' and '€ 12.000,50'.
    """
    cents = cents or 0
    if dutch is None:
        from salesselect_cli.i18n import dutch as interface_is_dutch

        dutch = interface_is_dutch()
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    whole, part = divmod(cents, 100)
    text = f"{whole:,}"
    if dutch:
        text = text.replace(",", ".")
        if part or decimals:
            text += f",{part:02d}"
        return f"{symbol.strip()} {text}"
    if part or decimals:
        text += f".{part:02d}"
    return f"{symbol}{text}"
