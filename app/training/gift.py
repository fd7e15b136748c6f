"""Moodle GIFT: read a question bank file into `Question` values and write them back.

`parse(text)` returns every question of the file and every error found (the caller stores
nothing when there is any error); `export(questions)` writes GIFT that Moodle imports and that
`parse` reads back into equal questions.

What is read, as Moodle reads it:

* `//` comment lines (the whole line); blank lines end a question; a question's text and its
  answers may span lines (each line is trimmed, lines are joined with a line break);
* `$CATEGORY: path` lines (Moodle's `$course$/`-style context prefix is dropped; an empty path
  goes back to the `category` given to `parse`);
* `::title::`, then a format marker `[moodle]` `[html]` `[markdown]` `[plain]` before the text
  (any other `[letters]` marker there is an error);
* one answer block `{…}`: essay `{}`; numerical `{#…}`; multiple choice when an answer starts
  with `~` (single choice when some answer starts with `=`, multiple answers when none does);
  matching when answers start with `=` and hold `->`; true/false `{T}` `{TRUE}` `{F}`
  `{FALSE}`; short answer otherwise (every answer starts with `=`). No block: a description.
  Text after the block makes a missing-word question: the text before goes to `text`, the text
  after to `text_after` (whitespace touching the blank becomes one space).
* `%n%` weights (-100..100) after `=` or `~`; `#feedback` after an answer; `####general
  feedback` at the end of the block;
* escapes `\\~ \\= \\# \\{ \\} \\: \\\\` and `\\n` (a line break); any other backslash stays.

Decisions:

* True/false feedback is Moodle's `{T#shown for a wrong answer#shown for a right answer}`:
  for `{T}` the first goes to `false_feedback` and the second to `true_feedback`; for `{F}` the
  first goes to `true_feedback` and the second to `false_feedback` — `true_feedback` is always
  what someone answering "true" sees. Export writes the inverse.
* Matching needs at least 3 pairs, at least 2 of them with a prompt (a pair with an empty prompt,
  `= -> answer`, is a distractor) — Moodle's GIFT documentation asks for three pairs and its
  matching question type for at least two questions and three answers.
* The right answers, as Moodle checks them when it saves: single choice, short answer and
  numerical need an answer worth 100%; multiple choice needs its positive weights to add up to
  100% (rounded to whole hundredths of the mark).
* Ranges `{#1..2}` are stored as value ± tolerance (1.5 ± 0.5) and exported that way.
* Format markers are Moodle's, lower case only (`[HTML]` is an error). Only the question text
  takes one; feedback and answers are plain strings.
* Errors carry the line where the question starts; `parse` goes on after a broken question, so
  one call reports every error of the file, and returns the questions that did read.

Export writes what `parse` reads back equal: a text that would look like a marker or a comment
gets an explicit `[moodle]`; an answer starting with `%` gets an explicit weight; weights are
written in decimal so they read back to the same float. GIFT cannot write `->` in a matching
prompt, nor `->` in a short answer (Moodle would read it as matching).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from app.i18n import N_
from app.training.questions import (
    DESCRIPTION,
    ESSAY,
    FORMATS,
    MATCHING,
    MULTIPLE,
    NUMERICAL,
    SHORT,
    SINGLE,
    TRUE_FALSE,
    Choice,
    Numeric,
    Pair,
    Question,
)

MATCHING_MIN_PAIRS = 3
MATCHING_MIN_PROMPTS = 2


@dataclass(frozen=True)
class GiftError:
    line: int           # 1-based line where the broken question starts (or the bad line)
    message: str        # English msgid (N_), with %(name)s placeholders
    params: dict = field(default_factory=dict)


class _Broken(Exception):
    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message = message
        self.params = params


# Escapes become private-use characters while the structure is read, then the literal character.
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004",
            "}": "\ue005", ":": "\ue006", "n": "\ue007"}
_RESTORE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()})
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
_MARKER_RE = re.compile(r"\[([A-Za-z]+)\]")
_WEIGHT_RE = re.compile(r"%([^%]*)%")
_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_CONTEXT_RE = re.compile(r"^\$[a-z0-9]+\$/")
_CATEGORY = "$CATEGORY:"


def _protect(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


# --------------------------------------------------------------------------- reading


def parse(text: str, *, category: str = "") -> tuple[list[Question], list[GiftError]]:
    """All questions of a GIFT file, and its errors (any error: the caller stores nothing).
    `category` is the category of the questions before the first `$CATEGORY:` line."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    questions: list[Question] = []
    errors: list[GiftError] = []
    current = category
    block: list[tuple[int, str]] = []

    def flush() -> None:
        if not block:
            return
        start = block[0][0]
        try:
            question = _question("\n".join(line for _, line in block))
        except _Broken as broken:
            errors.append(GiftError(start, broken.message, broken.params))
        else:
            question.category = current
            question.line = start
            questions.append(question)
        block.clear()

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line.startswith("//"):
            continue
        if not line:
            flush()
        elif line.startswith(_CATEGORY):
            flush()
            path = _CONTEXT_RE.sub("", line[len(_CATEGORY):].strip()).strip()
            current = path or category
        else:
            block.append((number, line))
    flush()
    return questions, errors


def _question(source: str) -> Question:
    text = _protect(source)
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise _Broken(N_("The question title (::title::) is not closed with ::."))
        name = _restore(text[2:end].strip())
        text = text[end + 2:].lstrip()
    text_format = "moodle"
    marker = _MARKER_RE.match(text)
    if marker:
        text_format = marker.group(1)       # Moodle's markers are lower case
        if text_format not in FORMATS:
            raise _Broken(N_("Unknown format marker [%(marker)s]: use [moodle], [html], "
                             "[markdown] or [plain]."), marker=marker.group(1))
        text = text[marker.end():].lstrip()

    opening, closing = text.find("{"), text.find("}")
    if opening < 0:
        if closing >= 0:
            raise _Broken(N_("A } closes an answer block that was never opened with {."))
        if not text.strip():
            raise _Broken(N_("The question has no text."))
        return Question(qtype=DESCRIPTION, text=_restore(text.strip()), name=name,
                        text_format=text_format)
    if closing < 0:
        raise _Broken(N_("The answer block opened with { is not closed with }."))
    if closing < opening:
        raise _Broken(N_("A } closes an answer block that was never opened with {."))
    before, block, after = text[:opening], text[opening + 1:closing], text[closing + 1:]
    if "{" in block:
        raise _Broken(N_("An answer block cannot hold another {; write \\{ for a { in the "
                         "text."))
    if "{" in after or "}" in after:
        raise _Broken(N_("A question has only one answer block {…}; the text after it "
                         "cannot be read."))
    if after.strip():                       # missing word: whitespace at the blank → one space
        before = _blank_side(before, trailing=True)
        after = _blank_side(after, trailing=False)
    else:
        before, after = before.strip(), ""
    if not before.strip() and not after.strip():
        raise _Broken(N_("The question has no text."))

    general = ""
    if "####" in block:
        block, general = block.split("####", 1)
        general = _restore(general.strip())
    question = _answers(block.strip())
    if after and question.qtype in (ESSAY, MATCHING):
        raise _Broken(N_("Only a missing-word question may have text after its answer "
                         "block; an essay or matching question may not."))
    question.text = _restore(before)
    question.text_after = _restore(after)
    question.name = name
    question.text_format = text_format
    question.general_feedback = general
    return question


def _blank_side(text: str, *, trailing: bool) -> str:
    """The text beside a missing word's blank: trimmed away from the blank, and the whitespace
    touching the blank made one space."""
    if trailing:
        core = text.strip()
        return core + " " if core and text[-1].isspace() else core
    core = text.strip()
    return " " + core if core and text[0].isspace() else core


def _answers(block: str) -> Question:
    if not block:
        return Question(qtype=ESSAY, text="")
    if block.startswith("#"):
        return _numerical(block[1:].strip())
    if "~" in block:
        return _choices(block)
    if "=" in block and "->" in block:
        return _matching(block)
    head = block.split("#", 1)[0].strip()
    if head in ("T", "TRUE", "F", "FALSE"):
        return _true_false(block)
    return _short(block)


def _split(block: str, markers: str) -> list[tuple[str, str]]:
    """The answers of a block as (marker, rest), in order; text before the first marker is an
    error."""
    parts = re.split(f"([{re.escape(markers)}])", block)
    if parts[0].strip():
        raise _Broken(N_("Each answer must start with = or ~ (found %(text)s)."),
                      text=_restore(parts[0].strip()))
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def _weight(rest: str) -> tuple[float | None, str]:
    rest = rest.lstrip()
    if not rest.startswith("%"):
        return None, rest
    match = _WEIGHT_RE.match(rest)
    if not match:
        raise _Broken(N_("The weight %(weight)s has no closing percent sign."),
                      weight=_restore(rest[:12].strip()))
    raw = match.group(1).strip()
    if not _NUMBER_RE.fullmatch(raw):
        raise _Broken(N_("The weight %(weight)s is not a number."), weight=_restore(raw))
    value = float(raw)
    if not -100 <= value <= 100:
        raise _Broken(N_("The weight %(weight)s is outside -100 to 100."), weight=raw)
    return float(Decimal(raw).scaleb(-2)), rest[match.end():]


def _feedback(rest: str) -> tuple[str, str]:
    text, _, feedback = rest.partition("#")
    if "#" in feedback:
        raise _Broken(N_("An answer has more than one # (feedback); write \\# for a # in "
                         "the text."))
    return _restore(text.strip()), _restore(feedback.strip())


def _choice(marker: str, rest: str, *, default_right: float) -> Choice:
    weight, rest = _weight(rest)
    text, feedback = _feedback(rest)
    if not text:
        raise _Broken(N_("An answer is empty."))
    if weight is None:
        weight = default_right if marker == "=" else 0.0
    return Choice(text=text, fraction=weight, feedback=feedback)


def _choices(block: str) -> Question:
    answers = _split(block, "=~")
    single = any(marker == "=" for marker, _ in answers)
    choices = [_choice(marker, rest, default_right=1.0) for marker, rest in answers]
    if single:
        _need_full_mark([c.fraction for c in choices])
        return Question(qtype=SINGLE, text="", choices=choices)
    total = sum(c.fraction for c in choices if c.fraction > 0)
    if total <= 0:
        raise _Broken(N_("The question has no right answer."))
    if round(total, 2) != 1:
        raise _Broken(N_("The positive weights of a multiple-answer question add up to "
                         "%(total)s instead of 100."), total=_number(total * 100))
    return Question(qtype=MULTIPLE, text="", choices=choices)


def _need_full_mark(fractions: list[float]) -> None:
    if not fractions or max(fractions) < 1:
        raise _Broken(N_("The question has no right answer."))


def _short(block: str) -> Question:
    answers = _split(block, "=")
    if not answers:
        raise _Broken(N_("Each answer must start with = or ~ (found %(text)s)."),
                      text=_restore(block))
    choices = [_choice(marker, rest, default_right=1.0) for marker, rest in answers]
    _need_full_mark([c.fraction for c in choices])
    return Question(qtype=SHORT, text="", choices=choices)


def _matching(block: str) -> Question:
    pairs = []
    for _marker, rest in _split(block, "="):
        if rest.lstrip().startswith("%") or "#" in rest:
            raise _Broken(N_("A matching question takes no weights or per-answer feedback."))
        prompt, arrow, answer = rest.partition("->")
        if not arrow:
            raise _Broken(N_("The matching pair %(pair)s has no ->."), pair=_restore(rest.strip()))
        prompt, answer = _restore(prompt.strip()), _restore(answer.strip())
        if not answer:
            raise _Broken(N_("An answer is empty."))
        pairs.append(Pair(prompt=prompt, answer=answer))
    prompts = sum(1 for p in pairs if p.prompt)
    if len(pairs) < MATCHING_MIN_PAIRS or prompts < MATCHING_MIN_PROMPTS:
        raise _Broken(N_("A matching question needs at least %(pairs)s pairs, %(prompts)s of "
                         "them with a prompt."),
                      pairs=MATCHING_MIN_PAIRS, prompts=MATCHING_MIN_PROMPTS)
    return Question(qtype=MATCHING, text="", pairs=pairs)


def _true_false(block: str) -> Question:
    parts = block.split("#")
    if len(parts) > 3:
        raise _Broken(N_("A true/false answer takes at most two feedbacks: #wrong#right."))
    truth = parts[0].strip() in ("T", "TRUE")
    wrong = _restore(parts[1].strip()) if len(parts) > 1 else ""
    right = _restore(parts[2].strip()) if len(parts) > 2 else ""
    return Question(qtype=TRUE_FALSE, text="", truth=truth,
                    true_feedback=right if truth else wrong,
                    false_feedback=wrong if truth else right)


def _numerical(block: str) -> Question:
    if "~" in block:
        raise _Broken(N_("The answers of a numerical question start with =, not ~."))
    if "=" in block:
        answers = _split(block, "=")
    else:
        answers = [("=", block)]
    numerics = []
    for _marker, rest in answers:
        weight, rest = _weight(rest)
        value, feedback = _feedback(rest)
        number, tolerance = _numeric_value(value)
        numerics.append(Numeric(value=number, tolerance=tolerance,
                                fraction=1.0 if weight is None else weight, feedback=feedback))
    _need_full_mark([n.fraction for n in numerics])
    return Question(qtype=NUMERICAL, text="", numerics=numerics)


def _numeric_value(text: str) -> tuple[float, float]:
    """The value and tolerance of an answer `value`, `value:tolerance` or `low..high`."""
    text = text.replace(" ", "")
    if ".." in text:
        low, _, high = text.partition("..")
        low_value, high_value = _as_number(low), _as_number(high)
        if low_value > high_value:
            raise _Broken(N_("The range %(value)s starts above its end."), value=text)
        return (low_value + high_value) / 2, (high_value - low_value) / 2
    value, colon, tolerance = text.partition(":")
    number = _as_number(value)
    spread = _as_number(tolerance) if colon else 0.0
    if spread < 0:
        raise _Broken(N_("The tolerance %(value)s is negative."), value=tolerance)
    return number, spread


def _as_number(text: str) -> float:
    if not _NUMBER_RE.fullmatch(text):
        raise _Broken(N_("%(value)s is not a number."), value=text or "∅")
    return float(text)


# --------------------------------------------------------------------------- writing


def export(questions: list[Question]) -> str:
    """GIFT text of the questions, with a `$CATEGORY:` line wherever the category changes."""
    out: list[str] = []
    category = ""
    for question in questions:
        if question.category != category:
            category = question.category
            out.append(f"{_CATEGORY} {category}".rstrip())
            out.append("")
        out.append(_write(question))
        out.append("")
    return "\n".join(out)


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("~", "\\~").replace("=", "\\=")
            .replace("#", "\\#").replace("{", "\\{").replace("}", "\\}").replace(":", "\\:")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _percent(fraction: float) -> str:
    """The weight (per cent) that reads back as exactly this fraction: decimal, no exponent."""
    return format(Decimal(repr(float(fraction))).scaleb(2).normalize(), "f")


def _fb(feedback: str) -> str:
    return f"#{_escape(feedback)}" if feedback else ""


def _write(question: Question) -> str:
    head = f"::{_escape(question.name)}::" if question.name else ""
    text = _escape(question.text)
    if (question.text_format != "moodle" or _MARKER_RE.match(question.text)
            or (not head and question.text.startswith("//"))):
        head += f"[{question.text_format}]"
    head += text
    if question.qtype == DESCRIPTION:
        return head
    general = f"####{_escape(question.general_feedback)}" if question.general_feedback else ""
    tail = "}" + _escape(question.text_after)
    if not question.text_after and question.text:
        head += " "
    qtype = question.qtype
    if qtype == ESSAY:
        return head + "{" + general + tail
    if qtype == TRUE_FALSE:
        wrong, right = ((question.false_feedback, question.true_feedback) if question.truth
                        else (question.true_feedback, question.false_feedback))
        feedback = ""
        if wrong or right:
            feedback = f"#{_escape(wrong)}" + (f"#{_escape(right)}" if right else "")
        return head + "{" + ("TRUE" if question.truth else "FALSE") + feedback + general + tail
    lines = []
    if qtype in (SINGLE, MULTIPLE, SHORT):
        for c in question.choices:
            sign = "=" if qtype == SHORT or (qtype == SINGLE and c.fraction == 1) else "~"
            implied = 1.0 if sign == "=" else 0.0
            # a weight is written when it differs from the sign's, or when the text itself
            # starts with % (it would read as a weight)
            weight = ("" if c.fraction == implied and not c.text.startswith("%")
                      else f"%{_percent(c.fraction)}%")
            lines.append(sign + weight + _escape(c.text) + _fb(c.feedback))
    elif qtype == MATCHING:
        for p in question.pairs:
            lines.append(f"={_escape(p.prompt)} -> {_escape(p.answer)}")
    elif qtype == NUMERICAL:
        for n in question.numerics:
            value = _number(n.value) + (f":{_number(n.tolerance)}" if n.tolerance else "")
            mark = "=" if n.fraction == 1 else f"=%{_percent(n.fraction)}%"
            lines.append(mark + value + _fb(n.feedback))
        if len(question.numerics) == 1 and question.numerics[0].fraction == 1:
            return head + "{#" + lines[0][1:] + general + tail
        head += "{#"
    else:
        raise ValueError(f"unknown question type {qtype!r}")
    if qtype != NUMERICAL:
        head += "{"
    if general:
        lines.append(general)
    if question.text_after:                 # missing word: the answers stay in the sentence
        return head + " ".join(lines) + tail
    return head + "".join(f"\n\t{line}" for line in lines) + "\n" + tail
