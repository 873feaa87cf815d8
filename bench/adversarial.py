"""The slowest post anyone can send: hunts for Markdown that makes forum.discussion.markup.render
slow,
before and after a change, and what the sanitizer costs (bleach against nh3).

    .venv/bin/python -m bench.adversarial                      # after (this tree) and before
    .venv/bin/python -m bench.adversarial --before ba88f1a --examples 300 --before-examples 40

Inputs are 50,000 characters (the longest post): a list of known slow patterns, plus what
hypothesis finds when told to maximise render time (targeted search over short "units" of
Markdown fragments, each repeated to fill the post, up to three units in a row). The renderer
"before" is forum/discussion/markup.py at another commit, read from a temporary `git worktree` that
is
removed afterwards. Times are CPU seconds of this thread (time.thread_time), the best of a few
runs, so other processes on the machine disturb them less than wall time would.

The sanitizer comparison feeds bleach (forum.discussion.markup's Cleaner, filter included) and nh3
(the
same allowlist; its image rule aside) the same HTML: markdown-it's output for the whole
input, as before the budget, and for the part within the budget, as now.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import nh3
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from forum.discussion import markup

ROOT = Path(__file__).resolve().parent.parent
LENGTH = 50_000
BEFORE = "ba88f1a"  # the commit before rendering was bounded
Renderer = Callable[[str], str]


def _fill(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


KNOWN: dict[str, str] = {
    "table rows": "|a|b|\n|-|-|\n" + _fill("|x|y|\n", LENGTH - 12),
    "wide table, short rows": _fill("|" + "a|" * 100 + "\n|" + "-|" * 100 + "\n" + "a\n" * 400),
    "setext headings": _fill("a\n-\n"),
    "list items": _fill("- a\n"),
    "nested quotes and lists": _fill("> - > - a\n"),
    "paragraphs": _fill("a\n\n"),
    "emphasis *_": _fill("*_"),
    "strong pairs": _fill("**a** "),
    "bare domains": _fill("a.co "),
    "emails": _fill("a@b.co "),
    "autolinks": _fill("<http://a.b> "),
    "ampersands": "&" * LENGTH,
    "named entities": _fill("&amp;"),
    "numeric entities": _fill("&#123;"),
    "angle brackets": _fill("<a "),
    "quotes": '"' * LENGTH,
    "www.": _fill("www."),
    "open brackets ![": _fill("!["),
    "links": _fill("[a](http://a.b) "),
    "code spans": _fill("`a` "),
    "backslash escapes": _fill("\\*"),
    "headings": _fill("# a\n"),
    "prose": _fill("Partner Track season two was renewed, and the finale left us guessing. "),
}

# Pieces hypothesis builds units from: the syntax that makes structures, and some text.
FRAGMENTS = [
    "\n",
    "\n\n",
    " ",
    "a",
    "ab c",
    "|",
    "|-",
    "|:-:",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "> ",
    "# ",
    "###### ",
    "=",
    "-",
    "*",
    "_",
    "**",
    "__",
    "~~",
    "`",
    "```\n",
    "    ",
    "\t",
    "&",
    "&amp;",
    "&#123;",
    "&#x1F600;",
    "<",
    ">",
    '"',
    "'",
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "[a]: b\n",
    "http://",
    "https://a.b/c",
    "www.",
    "a.co",
    ".",
    ":",
    "@",
    "a@b.co",
    "\\",
    "<http://a.b>",
    "---\n",
    "***\n",
    "  \n",
]
UNIT = (
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text("ab |-*_`&<>[]()!.:@\\#>\n", max_size=6)),
        min_size=1,
        max_size=24,
    )
    .map("".join)
    .filter(bool)
)
SOURCE = st.lists(st.tuples(UNIT, st.integers(1, 100)), min_size=1, max_size=3)


def _build(units: list[tuple[str, int]]) -> str:
    """Units in a row, each taking its share of the post (by weight), the last one filling."""
    total = sum(weight for _, weight in units)
    parts, used = [], 0
    for unit, weight in units[:-1]:
        parts.append(_fill(unit, LENGTH * weight // total))
        used += len(parts[-1])
    return "".join(parts) + _fill(units[-1][0], LENGTH - used)


def cpu_ms(render: Renderer, source: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        render(source)
        best = min(best, time.thread_time() - started)
    return best * 1000


@dataclass
class Worst:
    ms: float = 0.0
    source: str = ""
    examples: int = 0


def hunt(render: Renderer, examples: int, runs: int, seed: int) -> Worst:
    """Targeted property-based search: hypothesis steers towards inputs that render slowly."""
    worst = Worst()

    @fixed_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.target],
        suppress_health_check=list(HealthCheck),
    )
    @given(SOURCE)
    def probe(units: list[tuple[str, int]]) -> None:
        source = _build(units)
        ms = cpu_ms(render, source, runs)
        worst.examples += 1
        if ms > worst.ms:
            worst.ms, worst.source = ms, source
        target(ms, label="render ms")

    probe()
    return worst


@contextmanager
def markup_at(revision: str) -> Iterator[ModuleType]:
    """forum/discussion/markup.py as it was at `revision`, from a temporary git worktree."""
    with tempfile.TemporaryDirectory(prefix="markup-before-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(tree), revision],
            cwd=ROOT,
            check=True,
        )
        try:
            spec = importlib.util.spec_from_file_location(
                "markup_before", tree / "forum" / "markup.py"
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            yield module
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True
            )


# nh3 with forum.discussion.markup's allowlist (it has no hook for the image rule, which the
# comparison
# leaves out: a few attribute checks per image).
NH3_OPTIONS: dict[str, Any] = {
    "tags": set(markup.ALLOWED_TAGS),
    "attributes": {
        "a": {"href", "title"},
        "img": {"src", "alt", "title"},
        "ol": {"start"},
        "th": set(),
        "td": set(),
    },
    "allowed_classes": {"th": set(markup.ALIGNMENT_CLASSES), "td": set(markup.ALIGNMENT_CLASSES)},
    "url_schemes": set(markup.ALLOWED_PROTOCOLS),
    "link_rel": markup.LINK_REL,
    "set_tag_attribute_values": {"img": {"loading": "lazy", "referrerpolicy": "no-referrer"}},
    "strip_comments": True,
}


MAX_WHOLE_HTML = 1_000_000


def _markdown_html(module: ModuleType, source: str) -> str:
    brackets = source.count("[") <= module.MAX_LINK_BRACKETS
    return (module._md if brackets else module._md_without_links).render(source)


def sanitizers(source: str, runs: int, old: ModuleType | None) -> dict[str, float]:
    """bleach and nh3 on the same HTML: markdown-it's for the whole of `source` as the before
    renderer made it (unbounded; this tree's caps apply when there is no before), and for the
    part within the budget as this tree makes it."""
    if old is not None:
        whole = _markdown_html(old, source)
    else:
        with markup.bounds.allowance():
            whole = _markdown_html(markup, source)
    with markup.bounds.allowance():
        bounded = _markdown_html(markup, source[: markup.bounds.markdown_length(source)])
    huge = len(whole) > MAX_WHOLE_HTML  # bleach would take a minute: not worth the wait
    return {
        "whole_html_chars": len(whole),
        "bleach_whole_ms": float("nan") if huge else cpu_ms(markup._sanitize, whole, runs),
        "nh3_whole_ms": cpu_ms(lambda html: nh3.clean(html, **NH3_OPTIONS), whole, runs),
        "bounded_html_chars": len(bounded),
        "bleach_bounded_ms": cpu_ms(markup._sanitize, bounded, runs),
        "nh3_bounded_ms": cpu_ms(lambda html: nh3.clean(html, **NH3_OPTIONS), bounded, runs),
    }


def run(
    examples: int = 200,
    before_examples: int = 30,
    before: str | None = BEFORE,
    runs: int = 3,
    seed: int = 7,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Everything the report prints, as a dict (bench/__main__.py stores it in its JSON)."""
    results: dict[str, Any] = {"length": LENGTH, "runs": runs, "before_revision": before}
    renderers: dict[str, Renderer] = {"after": markup.render}
    with markup_at(before) if before else _nothing() as old:
        if old is not None:
            renderers["before"] = old.render
        say(f"known patterns: {len(KNOWN)}")
        results["known"] = {
            name: {
                label: cpu_ms(render, source, runs if label == "after" else 1)
                for label, render in renderers.items()
            }
            for name, source in KNOWN.items()
        }
        worst: dict[str, Worst] = {}
        for label, render in renderers.items():
            count = examples if label == "after" else before_examples
            say(f"hypothesis: {count} examples against the {label} renderer")
            worst[label] = hunt(render, count, runs if label == "after" else 1, seed)
        # Each search's worst input, timed on both renderers.
        results["hunted"] = {
            label: {
                "examples": found.examples,
                "source_start": found.source[:120],
                **{
                    f"{other}_ms": cpu_ms(render, found.source, runs)
                    for other, render in renderers.items()
                },
            }
            for label, found in worst.items()
        }
        inputs = {**KNOWN, **{f"hunted ({label})": found.source for label, found in worst.items()}}
        say("sanitizers: bleach and nh3 on the same HTML")
        results["sanitizers"] = {
            name: sanitizers(source, 1 if old else runs, old) for name, source in inputs.items()
        }
    results["slowest"] = {
        label: max(
            max(times.get(label, 0.0) for times in results["known"].values()),
            max(found.get(f"{label}_ms", 0.0) for found in results["hunted"].values()),
        )
        for label in renderers
    }
    return results


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def report(results: dict[str, Any]) -> str:
    labels = [label for label in ("before", "after") if label in results["slowest"]]
    lines = [
        f"Render CPU ms at {results['length']:,} characters (best of {results['runs']}; "
        f"before = {results['before_revision']})",
        "",
    ]
    lines += ["| input | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for name, times in results["known"].items():
        lines.append(f"| {name} | " + " | ".join(f"{times[label]:.1f}" for label in labels) + " |")
    for label, found in results["hunted"].items():
        lines.append(
            f"| hypothesis worst for {label} ({found['examples']} examples) | "
            + " | ".join(f"{found[f'{other}_ms']:.1f}" for other in labels)
            + " |"
        )
    lines.append(
        "| **slowest** | "
        + " | ".join(f"**{results['slowest'][label]:.1f}**" for label in labels)
        + " |"
    )
    lines += [
        "",
        "Sanitizer CPU ms on markdown-it's HTML: the whole input (no budget) and the budgeted part",
        "",
        "| input | HTML chars | bleach | nh3 | bounded HTML chars | bleach | nh3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in results["sanitizers"].items():
        lines.append(
            f"| {name} | {row['whole_html_chars']:,} | {row['bleach_whole_ms']:.1f} | "
            f"{row['nh3_whole_ms']:.2f} | {row['bounded_html_chars']:,} | "
            f"{row['bleach_bounded_ms']:.1f} | {row['nh3_bounded_ms']:.2f} |"
        )
    hunted = results["hunted"].get("after")
    if hunted:
        lines += ["", f"Slowest input found for after starts: {hunted['source_start']!r}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.adversarial",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=200,
        help="hypothesis examples against this tree's renderer (default: 200)",
    )
    parser.add_argument(
        "--before-examples",
        type=int,
        default=30,
        help="hypothesis examples against the before renderer (default: 30)",
    )
    parser.add_argument(
        "--before",
        default=BEFORE,
        help="commit whose forum/discussion/markup.py is 'before'; '' skips it "
        "(default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per input, best kept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    # `kill <pid>` unwinds like Ctrl-C, so the temporary worktree is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    results = run(
        args.examples,
        args.before_examples,
        args.before or None,
        args.runs,
        args.seed,
        say=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _interrupt(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
