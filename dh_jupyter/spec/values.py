"""Reading the plain values of a run spec: text, lists, names, counts, durations.

Every part of the parser needs the same small readers: "is this a string",
"is this a list", "is this a list of object names", and the Job's scalar
options (image, retries, durations). They live here so each part words these
problems the same way. A reader records its problem and returns ``None``; it
never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Problems, at

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# The widths of the Job's fields in the API: backoffLimit and
# ttlSecondsAfterFinished are int32, activeDeadlineSeconds and
# tolerationSeconds int64. A larger number is refused at submit.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def show(value: object) -> str:
    """``value`` as the user would recognise it in a message."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def kind(value: object) -> str:
    """What sort of value ``value`` is, for a message that must not show it."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def is_list(
    value: object,
    path: str,
    example: str,
    problems: Problems,
    *,
    secret: bool = False,
) -> bool:
    """Whether ``value`` is a list (or tuple); if not, say so at ``path``.

    With ``secret``, the message names what ``value`` is instead of showing it.
    """
    if isinstance(value, (list, tuple)):
        return True
    shown = kind(value) if secret else show(value)
    problems.add(path, f"{shown} is not a list; write a list such as {example}.")
    return False


def text(value: object, path: str, problems: Problems) -> str | None:
    """``value`` if it is a string; else ``None`` and a problem at ``path``."""
    if isinstance(value, str):
        return value
    problems.add(path, f"{show(value)} is not a string; put it in quotes.")
    return None


def checked_text(
    value: object,
    path: str,
    check: Callable[[str], str | None],
    problems: Problems,
) -> str | None:
    """An optional string that must also pass ``check`` (a ``names`` rule)."""
    if value is None:
        return None
    found = text(value, path, problems)
    if found is None:
        return None
    problem = check(found)
    if problem:
        problems.add(path, problem)
    return found


def non_empty_label(value: str) -> str | None:
    """Check a label value that must not be empty (a queue, a GPU model)."""
    if not value:
        return "the value is empty; give a name or leave the field out."
    return names.label_value(value)


def object_names(value: object, path: str, problems: Problems) -> tuple[str, ...]:
    """A list of Kubernetes object names, such as Secrets, without repeats."""
    if isinstance(value, str):
        problems.add(path, f'"{value}" is a single name; write a list: ["{value}"].')
        return ()
    if not is_list(value, path, '["my-secret"]', problems):
        return ()
    assert isinstance(value, (list, tuple))
    result: list[str] = []
    for index, item in enumerate(value):
        where = at(path, index)
        found = text(item, where, problems)
        if found is None:
            continue
        if problem := names.dns_subdomain(found):
            problems.add(where, problem)
        elif found in result:
            problems.add(where, f'"{found}" is listed twice; keep one.')
        result.append(found)
    return tuple(result)


def image(value: object, problems: Problems) -> str | None:
    """A container image reference: any text without spaces."""
    if value is None:
        return None
    found = text(value, "image", problems)
    if found is not None and (not found.strip() or any(c.isspace() for c in found)):
        problems.add(
            "image",
            f'"{found}" is not an image reference; '
            'write one such as "python:3.12-slim".',
        )
    return found


def too_large(value: object, name: str, maximum: int, unit: str = "") -> str:
    """The sentence for a number wider than its Kubernetes field."""
    return (
        f"{show(value)} is more than Kubernetes allows for {name}; use at most "
        f"{maximum}{unit}."
    )


def count(
    value: object, path: str, problems: Problems, *, maximum: int = INT32_MAX
) -> int | None:
    """A whole number, 0 or more, up to ``maximum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.add(
            path, f"{show(value)} is not a count; use a whole number, 0 or more."
        )
        return None
    if value > maximum:
        problems.add(path, too_large(value, path, maximum))
        return None
    return value


def duration(
    value: object,
    path: str,
    minimum: int,
    problems: Problems,
    *,
    maximum: int = INT32_MAX,
) -> int | None:
    """Seconds, from a whole number or text such as ``"90s"``, ``"1h30m"``."""
    if value is None:
        return None
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value)
    elif (
        isinstance(value, str)
        and (match := _DURATION.match(value.strip()))
        and any(match.groups())
    ):
        days, hours, minutes, secs = (int(part or 0) for part in match.groups())
        seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    if seconds is None or seconds < minimum:
        least = "1 or more" if minimum else "0 or more"
        problems.add(
            path,
            f"{show(value)} is not a duration; give seconds ({least}) or text "
            'such as "90s", "30m" or "2h".',
        )
        return None
    if seconds > maximum:
        problems.add(path, too_large(value, path, maximum, " seconds"))
        return None
    return seconds
