"""The concept library: Markdown pages in ``resources/lessons/`` whose worked examples the engine computes on open.

A page is a Markdown file with a small header between ``---`` lines (``id``, ``title``, ``group``, ``related``: ids
separated by commas, optional ``practice``: an exercise id) and a body with the sections "What it is", "Why it
matters" and "Worked example". ``{{example:NAME}}`` in the body is replaced, when the page is rendered, by
``lesson_examples.EXAMPLES[NAME]`` run on a real price (the last price of the bundled data, or the desk's current
price); links to other pages are written ``[text](lesson:ID)``. Qt-free: the Learn window only shows the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from hexdesk.market.paths import LESSONS
from hexdesk.service.lesson_examples import EXAMPLES, Example, ExampleContext

LESSONS_DIR = LESSONS  # the bundled pages (installed with the wheel as hexdesk.resources; see market/paths.py)
GROUPS = ("Positions & Risk", "Orders", "Costs")
REQUIRED_SECTIONS = ("## What it is", "## Why it matters", "## Worked example")
PLACEHOLDER = re.compile(r"\{\{example:([a-z_]+)\}\}")
LINK = re.compile(r"\]\(lesson:([a-z0-9-]+)\)")
DEFAULT_DATASET = "BTCUSDT-2025-03"


class LessonError(ValueError):
    """A page that cannot be loaded: the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Lesson:
    """One concept page as written: its header and its Markdown body (placeholders not yet filled)."""

    id: str
    title: str
    group: str
    related: tuple[str, ...]
    body: str
    practice: str | None = None
    path: Path | None = None

    @property
    def examples(self) -> tuple[str, ...]:
        """The example names the body asks for, in order."""
        return tuple(PLACEHOLDER.findall(self.body))

    def links(self) -> tuple[str, ...]:
        """Every page id this page links to: inline ``lesson:`` links and the related ids."""
        return tuple(dict.fromkeys((*LINK.findall(self.body), *self.related)))


@dataclass(frozen=True, slots=True)
class RenderedLesson:
    """A page ready to show: Markdown with its examples filled, and the examples' numbers by name."""

    lesson: Lesson
    markdown: str
    examples: dict[str, Example]
    context: ExampleContext


def parse_lesson(text: str, path: Path | None = None) -> Lesson:
    """A page from its file text; raises LessonError naming the file and the missing or bad header key."""
    where = path.name if path is not None else "<text>"
    if not text.startswith("---\n"):
        raise LessonError(f"{where}: a page starts with a '---' header")
    try:
        head, body = text[4:].split("\n---\n", 1)
    except ValueError:
        raise LessonError(f"{where}: the header has no closing '---'") from None
    fields: dict[str, str] = {}
    for line in head.splitlines():
        if line.strip():
            key, sep, value = line.partition(":")
            if not sep:
                raise LessonError(f"{where}: header line {line!r} is not 'key: value'")
            fields[key.strip()] = value.strip()
    for key in ("id", "title", "group"):
        if not fields.get(key):
            raise LessonError(f"{where}: header key {key!r} is missing")
    if fields["group"] not in GROUPS:
        raise LessonError(f"{where}: group {fields['group']!r} is not one of {', '.join(GROUPS)}")
    unknown = [n for n in PLACEHOLDER.findall(body) if n not in EXAMPLES]
    if unknown:
        raise LessonError(f"{where}: unknown example {unknown[0]!r}")
    related = tuple(r.strip() for r in fields.get("related", "").split(",") if r.strip())
    return Lesson(fields["id"], fields["title"], fields["group"], related, body.strip() + "\n",
                  fields.get("practice") or None, path)


@cache
def load_lessons(directory: Path = LESSONS_DIR) -> tuple[Lesson, ...]:
    """Every page of the library, ordered by group (as GROUPS lists them) then by file name."""
    lessons = [parse_lesson(p.read_text(encoding="utf-8"), p) for p in sorted(directory.glob("*.md"))]
    ids = [x.id for x in lessons]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise LessonError(f"duplicate page id {sorted(dupes)[0]!r}")
    order = {g: i for i, g in enumerate(GROUPS)}
    return tuple(sorted(lessons, key=lambda x: (order[x.group], x.path.name if x.path else x.id)))


def lesson_by_id(lesson_id: str, directory: Path = LESSONS_DIR) -> Lesson:
    for lesson in load_lessons(directory):
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(lesson_id)


def search(query: str, lessons: tuple[Lesson, ...] | None = None) -> tuple[Lesson, ...]:
    """Pages whose title, group or text contain every word of ``query`` (case-insensitive), titles first."""
    pool = load_lessons() if lessons is None else lessons
    words = query.lower().split()
    if not words:
        return pool
    hits = [x for x in pool if all(w in f"{x.title} {x.group} {x.body}".lower() for w in words)]
    return tuple(sorted(hits, key=lambda x: not all(w in x.title.lower() for w in words)))


@cache
def bundled_context(dataset: str = DEFAULT_DATASET) -> ExampleContext:
    """The examples' default start: the last close of a bundled month, one minute after that candle opened."""
    from hexdesk.market.candles import load_bundled

    series = load_bundled(dataset)
    last = series.candle(len(series) - 1)
    return ExampleContext(series.symbol, last.close, last.open_time_ms + 60_000,
                          source=f"last price of the bundled {dataset} data")


def context_from_price(symbol: str, price: Decimal, ts_ms: int) -> ExampleContext:
    """The examples' start at the desk's current price (what the trader sees now)."""
    return ExampleContext(symbol, price, ts_ms, source=f"{symbol} at the desk's current price")


def render(
    lesson: Lesson, context: ExampleContext | None = None, titles: dict[str, str] | None = None
) -> RenderedLesson:
    """The page's Markdown with its examples computed now and a "Related terms" section of links."""
    ctx = context or bundled_context()
    examples: dict[str, Example] = {}

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in examples:
            examples[name] = EXAMPLES[name](ctx)
        return examples[name].markdown

    body = PLACEHOLDER.sub(fill, lesson.body)
    if titles is None:
        titles = {x.id: x.title for x in load_lessons()}
    related = "\n".join(f"- [{titles.get(r, r)}](lesson:{r})" for r in lesson.related)
    source = ""
    if examples:
        source = f"\n\n*Example numbers computed by the engine from {ctx.symbol} {ctx.price} ({ctx.source}).*"
    md = f"# {lesson.title}\n\n*{lesson.group}*\n\n{body.rstrip()}{source}\n\n## Related terms\n\n{related}\n"
    return RenderedLesson(lesson, md, examples, ctx)
