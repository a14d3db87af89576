"""Money arithmetic in integer cents: sharing an amount fairly, and VAT included in a price."""
from __future__ import annotations

from chalicelib.values.unfit import Unfit


def allocate(amount: int, weights: list[int]) -> list[int]:
    """``amount`` split in proportion to ``weights``, to the cent, summing exactly to ``amount``
    (largest remainders get the leftover cents; ties go to the earlier weight)."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    shares = [amount * weight // total for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for index in remainders[: amount - sum(shares)]:
        shares[index] += 1
    return shares


def vat_included(price_cents: int, rate_bp: int) -> int:
    """The VAT inside a price that includes it, at ``rate_bp`` basis points, rounded half up."""
    return (price_cents * rate_bp * 2 + (10_000 + rate_bp)) // (2 * (10_000 + rate_bp))


def from_typed(text: str) -> int:
    """Cents from an amount as staff type it in euros: ``12``, ``12,5``, ``12,50``, ``12.50``,
    ``1 234,50`` (spaces, including French narrow ones, ignored); ValueError for anything else
    (a negative amount, more than two decimals, letters)."""
    import re

    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text or "").replace(",", ".")
    found = re.fullmatch(r"(\d{1,9})(?:\.(\d{1,2}))?", cleaned)
    if not found:
        raise Unfit(f"{text!r} is not an amount in euros", f"« {text} » n'est pas un montant en euros (par exemple 12,50)")
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))
