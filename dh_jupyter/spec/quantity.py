"""Kubernetes quantities, checked the way the API server checks them.

``kubernetes.utils.parse_quantity`` accepts negative values and a capital
``K`` and would need the slow ``kubernetes`` import, so the spec layer reads
quantities itself: the exact suffix grammar of the API server, never
negative, and a "did you mean" for the mistakes people really make (``64GB``,
``1.5gi``, memory in milli-units).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_LOOSE = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(?P<unit>[A-Za-z]+)$"
)


_FRACTIONS = {"m": "milli", "u": "micro", "n": "nano"}


class QuantityError(ValueError):
    """A value that is not a usable quantity; the text is the user's sentence."""


def parse_quantity(value: object, *, memory: bool = False) -> Decimal:
    """The numeric value of a Kubernetes quantity, or ``QuantityError``.

    ``value`` may be a string (``"500m"``, ``"1.5Gi"``, ``"1e9"``) or a
    number. ``memory`` turns on the hints that only make sense for bytes.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(
            f"{value!r} is not a Kubernetes quantity; write it as a string "
            'such as "2", "500m" or "4Gi".'
        )
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(_explain_bad(text, memory))
    if match["sign"] == "-" and Decimal(match["number"]) != 0:
        raise QuantityError(f'"{text}" is negative; a quantity must be 0 or more.')
    suffix = match["suffix"] or ""
    if memory and suffix in _FRACTIONS:
        raise QuantityError(_fraction_of_a_byte(text, match["number"], suffix))
    number = Decimal(match["number"])
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    try:
        return number * Decimal(10) ** int(suffix[1:])
    except InvalidOperation as error:  # an exponent too large to hold
        raise QuantityError(f'"{text}" is too large to be a quantity.') from error


def _fraction_of_a_byte(text: str, number: str, suffix: str) -> str:
    """The sentence for memory in milli-, micro- or nano-bytes."""
    noun = "byte" if Decimal(number) == 1 else "bytes"
    said = f'"{text}" is {number} {_FRACTIONS[suffix]}-{noun}, a fraction of a byte'
    if suffix == "m":
        # "m" for "M" is the mistake people really make: suggest mebibytes.
        return f'{said}; did you mean "{number}Mi"?'
    return (
        f"{said}; memory is counted in bytes, so write it as "
        f'"{number}Mi" or "{number}Gi".'
    )


def _explain_bad(text: str, memory: bool) -> str:
    """The sentence for a string that does not match the quantity grammar."""
    loose = _LOOSE.match(text)
    if loose is not None:
        number, unit = loose["number"], loose["unit"]
        guesses = _unit_guesses(unit, memory)
        if guesses:
            options = " or ".join(f'"{number}{guess}"' for guess in guesses)
            return f'"{text}" is not a Kubernetes quantity; did you mean {options}?'
    return (
        f'"{text}" is not a Kubernetes quantity; write a number with an '
        'optional suffix such as "2", "500m", "4Gi" or "1e9".'
    )


def _unit_guesses(unit: str, memory: bool) -> list[str]:
    """Valid suffixes a user most likely meant by ``unit`` (``GB`` → ``G``, ``Gi``)."""
    lowered = unit.lower()
    if lowered in ("b", "byte", "bytes"):
        return [""]
    stem = lowered.removesuffix("ib").removesuffix("b").removesuffix("i")
    for decimal, binary in (
        ("k", "Ki"),
        ("m", "Mi"),
        ("g", "Gi"),
        ("t", "Ti"),
        ("p", "Pi"),
        ("e", "Ei"),
    ):
        if stem == decimal:
            plain = "k" if decimal == "k" else decimal.upper()
            if lowered.endswith("i") or lowered.endswith("ib"):
                return [binary]
            if decimal == "m" and not memory:
                return ["m", "M", "Mi"]
            return [plain, binary]
    return []


def is_whole(number: Decimal) -> bool:
    """Whether ``number`` has no fractional part."""
    return number == number.to_integral_value()
