"""The Kubernetes naming rules a run spec's names must follow.

Each check returns ``None`` for a good name, or the sentence that says what
is wrong and how to write it instead, so the caller can attach it to the
field it came from.
"""

from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def _suggestion(value: str) -> str:
    """``value`` lowered, with anything not allowed in a DNS name made a dash."""
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", value.lower()).strip("-.")
    return cleaned or "my-name"


def dns_label(value: str) -> str | None:
    """Check a DNS-1123 label: volume names, namespaces."""
    if len(value) > 63:
        return f'"{value}" is {len(value)} characters long; use at most 63.'
    if not _DNS_LABEL.match(value):
        fix = _suggestion(value).replace(".", "-")
        return (
            f'"{value}" is not a valid name; use lower-case letters, digits and '
            f'"-", starting and ending with a letter or digit, such as "{fix}".'
        )
    return None


def dns_subdomain(value: str) -> str | None:
    """Check a DNS-1123 subdomain: claim, ConfigMap and Secret names."""
    if len(value) > 253:
        return f'"{value}" is {len(value)} characters long; use at most 253.'
    if not _DNS_SUBDOMAIN.match(value):
        return (
            f'"{value}" is not a valid Kubernetes object name; use lower-case '
            'letters, digits, "-" and ".", starting and ending with a letter or '
            f'digit, such as "{_suggestion(value)}".'
        )
    return None


def label_key(value: str) -> str | None:
    """Check a label, selector or toleration key: ``[prefix/]name``."""
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or dns_subdomain(prefix) is not None):
        return (
            f'"{value}" has a bad prefix "{prefix}"; the part before "/" must '
            'be a DNS subdomain such as "example.com".'
        )
    if len(name) > 63:
        return f'"{value}" has a name part of {len(name)} characters; use at most 63.'
    if not _LABEL_NAME.match(name):
        return (
            f'"{value}" is not a valid key; use letters, digits, "-", "_" and '
            '".", starting and ending with a letter or digit, with an optional '
            '"prefix/" in front.'
        )
    return None


def label_value(value: str) -> str | None:
    """Check a label or node selector value (it may be empty)."""
    if len(value) > 63:
        return f'"{value}" is {len(value)} characters long; use at most 63.'
    if value and not _LABEL_NAME.match(value):
        return (
            f'"{value}" is not a valid label value; use letters, digits, "-", '
            '"_" and ".", starting and ending with a letter or digit.'
        )
    return None


def env_name(value: str) -> str | None:
    """Check an environment variable name: not empty, no ``=``."""
    if not value:
        return 'the name is empty; give the variable a name such as "MY_SETTING".'
    if "=" in value:
        # What follows "=" is most likely the value, perhaps a token: not shown.
        name = value.split("=", 1)[0] or "MY_SETTING"
        return (
            f'the name contains "="; use the name "{name}" alone and put what '
            'follows "=" in "value".'
        )
    return None
