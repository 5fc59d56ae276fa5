"""Reading a magic's line the way a shell would, and argparse's complaints as sentences.

A line is split like POSIX ``sh`` splits it, so ``--env "A=b c"``, ``--name
'Train ResNet'`` and ``--image ""`` mean what they say, with the quotes gone.
Every mistake becomes one ``UsageError`` sentence with the fix, never
argparse's own terse text; the values themselves are judged by the spec
layer, not here.
"""

from __future__ import annotations

import argparse
import re
import shlex

from IPython.core.error import UsageError

from dh_jupyter.spec.keys import closest

# What a flag's value looks like, for the sentence about a missing value.
EXAMPLES = {
    "--cpu": "--cpu 2 or --cpu 500m:2",
    "--mem": "--mem 4Gi or --mem 4Gi:8Gi",
    "--gpu": "--gpu 1",
    "--gpu-type": "--gpu-type NVIDIA-A100",
    "--volume": "--volume pvc:datasets:/data",
    "--shm": "--shm 2Gi",
    "--env": "--env MODE=fast",
    "--secret": "--secret hf-token",
    "--toleration": "--toleration nvidia.com/gpu=v100:NoSchedule",
    "--node-selector": "--node-selector disk=ssd",
    "--label": "--label team=vision",
    "--affinity": "--affinity aff",
    "--image": "--image python:3.12-slim",
    "--namespace": "--namespace team-a",
    "--timeout": "--timeout 2h",
    "--retries": "--retries 2",
    "--ttl": "--ttl 3600",
    "--queue": "--queue team-q",
    "--service-account": "--service-account runner",
    "--image-pull-secret": "--image-pull-secret registry",
    "--priority-class": "--priority-class high",
    "--spec": "--spec picker",
    "--profile": "--profile gpu-v100",
    "--name": "--name train",
    "--backend": "--backend local",
    "--out": "--out run",
}
QUOTED_EXAMPLE = "--name 'Train ResNet'"


def magic_name(parser: argparse.ArgumentParser) -> str:
    """``%%dhrun`` or ``%dhlogs``, as the user types it."""
    # IPython's help prints a "%" before the parser's name; a cell magic's
    # parser is named "%dhrun" so its usage line reads "%%dhrun".
    return f"%{parser.prog}"


def parse(parser: argparse.ArgumentParser, line: str) -> argparse.Namespace:
    """The flags of ``line``; ``UsageError`` with one sentence if they are wrong."""
    magic = magic_name(parser)
    tokens = split(line, magic)

    check_flags(tokens, parser)

    try:
        return parser.parse_args(tokens)
    except UsageError as error:
        # IPython's parser raises UsageError with argparse's own text.
        raise UsageError(explain(str(error), parser)) from None


def split(line: str, magic: str = "%%dhrun") -> list[str]:
    """The words of ``line``, split and unquoted like a POSIX shell would."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        words.extend(lexer)
    except ValueError:
        flags = [w for w in words if w.startswith("-")]
        where = f" after {flags[-1]}" if flags else ""
        # shlex stops in the state of the open quote; typeshed omits "state".
        quote = getattr(lexer, "state", None)
        if isinstance(quote, str) and quote in lexer.quotes:
            # The value is not repeated: it may be a token the user pasted.
            raise UsageError(
                f"The {quote} quote{where} in this {magic} line is never "
                f"closed; close it, as in {QUOTED_EXAMPLE}."
            ) from None
        raise UsageError(
            f"This {magic} line ends with a lone backslash{where}; remove it, or "
            "write \\\\ for a backslash."
        ) from None
    return words


def check_flags(tokens: list[str], parser: argparse.ArgumentParser) -> None:
    """Refuse any flag the parser does not know, naming the closest one."""
    magic = magic_name(parser)
    known = list(parser._option_string_actions)
    long_flags = [flag for flag in known if flag.startswith("--")]
    for token in tokens:
        if not token.startswith("-") or token == "-" or _is_number(token):
            continue
        flag = token.split("=", 1)[0]
        if flag in known:
            continue
        # "-cpu" is "--cpu" with a dash missing more often than anything else.
        wanted = flag if flag.startswith("--") else "-" + flag
        guess = closest(wanted, long_flags)
        hint = f"did you mean {guess}?" if guess else f"see {magic}? for the flags."
        raise UsageError(f"{flag} is not a {magic} flag; {hint}")


def explain(message: str, parser: argparse.ArgumentParser) -> str:
    """argparse's ``message`` as one sentence that says how to fix the line."""
    magic = magic_name(parser)

    missing = re.match(r"argument ([^/:\s]+)\S*: expected one argument", message)
    if missing:
        flag = missing.group(1)
        return f"{flag} needs a value, for example {_example(flag, parser)}."

    needless = re.match(r"argument ([^/:\s]+)\S*: ignored explicit argument", message)
    if needless:
        flag = needless.group(1)
        return f"{flag} takes no value; write {flag} alone."

    stray = re.match(r"unrecognized arguments: (\S+)", message)
    if stray:
        word = stray.group(1)
        if magic == "%%dhrun" and "(" in word:
            fix = f"the cell's code goes on the lines below {magic}, not on its line"
        elif magic == "%%dhrun":
            fix = f"quote a value that has spaces, as in {QUOTED_EXAMPLE}"
        else:
            fix = f"see {magic}? for what it takes"
        return f'"{word}" is not a {magic} flag nor the value of one; {fix}.'

    if message.startswith("the following arguments are required"):
        return (
            f"{magic} needs the run's name, for example {magic} "
            "dhrun-train-x7k2p; %dhjobs lists your runs."
        )

    return f"{message[:1].upper()}{message[1:]}; see {magic}? for the flags."


def _example(flag: str, parser: argparse.ArgumentParser) -> str:
    if flag in EXAMPLES:
        return EXAMPLES[flag]
    action = parser._option_string_actions.get(flag)
    metavar = action.metavar if action is not None else None
    return f"{flag} {metavar or 'VALUE'}"


def _is_number(token: str) -> bool:
    # A negative number is a value (argparse reads it so), not a flag.
    try:
        float(token)
    except ValueError:
        return False
    return True
