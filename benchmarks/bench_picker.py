"""What building a ``ResourcePicker`` costs, beside a plain VBox of as many widgets.

The baseline is a flat ``VBox`` holding fresh instances of exactly the stock
widget classes the picker's tree holds (so many ``Text``, so many
``Dropdown``, the boxes too), built in the same process and the same run;
the ratio is the price of the picker's own work (wiring, the first check of
the spec, the first YAML preview). A second pair compares one keystroke in
the picker (the whole spec checked again and the preview redone) with
setting a plain ``Text`` that has an observer.

No cluster is read: the picker's lookups start when it is first shown, not
when it is built, and this script never shows it.

Run: ``python benchmarks/bench_picker.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import collections
import gc
import statistics
import time
from collections.abc import Callable, Iterator

import ipywidgets as widgets

from dh_jupyter.config import DhJupyter
from dh_jupyter.widgets.picker import ResourcePicker


def tree(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """``widget`` and every widget below it in boxes, tabs and accordions."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from tree(child)


def stock_classes(picker: ResourcePicker) -> collections.Counter[type]:
    """How many of each stock ipywidgets class the picker's tree holds."""
    counts: collections.Counter[type] = collections.Counter()
    for widget in tree(picker):
        # A subclass of ours counts as the stock class it is built on.
        stock = next(
            kind for kind in type(widget).__mro__ if kind.__module__.startswith("ipy")
        )
        counts[stock] += 1
    return counts


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``work`` over ``repeat`` runs, after a warm-up."""
    work()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    repeat = parser.parse_args().repeat
    config = DhJupyter()

    counts = stock_classes(ResourcePicker(config=config))
    total = sum(counts.values())

    def picker() -> ResourcePicker:
        return ResourcePicker(config=config)

    def plain() -> widgets.VBox:
        return widgets.VBox([kind() for kind, n in counts.items() for _ in range(n)])

    built = picker()
    field = built.resources.quantities["cpu", "requests"].control
    values = iter(f"{n}m" for n in range(1, 10**9))

    def keystroke() -> None:
        field.value = next(values)

    text = widgets.Text()
    text.observe(lambda change: None, "value")

    def plain_keystroke() -> None:
        text.value = next(values)

    cases = {
        f"ResourcePicker() ({total} widgets)": median_seconds(picker, repeat),
        f"VBox of {total} stock widgets (baseline)": median_seconds(plain, repeat),
        "picker keystroke (check + preview)": median_seconds(keystroke, repeat),
        "Text keystroke (baseline)": median_seconds(plain_keystroke, repeat),
    }

    names = list(cases)
    print(f"{'case':44} {'median ms':>10} {'ratio':>8}")
    for case, baseline in ((names[0], names[1]), (names[2], names[3])):
        ratio = cases[case] / cases[baseline]
        print(f"{case:44} {cases[case] * 1000:10.2f} {ratio:8.1f}")
        print(f"{baseline:44} {cases[baseline] * 1000:10.2f} {1.0:8.1f}")
    print("classes:", ", ".join(f"{k.__name__} {n}" for k, n in counts.most_common()))


if __name__ == "__main__":
    main()
