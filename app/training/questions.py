"""The question bank's questions as plain values: what GIFT reads and writes, what grading
scores, what the database stores (as JSON in `Question.body`). No Flask and no database here.

Types (Moodle's): single choice, multiple choice (partial credit, negative weights allowed),
true/false, short answer (several accepted answers), matching, numerical (tolerance or range),
essay (graded by hand) and description (text only, not graded).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

SINGLE = "single"
MULTIPLE = "multiple"
TRUE_FALSE = "truefalse"
SHORT = "short"
MATCHING = "matching"
NUMERICAL = "numerical"
ESSAY = "essay"
DESCRIPTION = "description"
TYPES = (SINGLE, MULTIPLE, TRUE_FALSE, SHORT, MATCHING, NUMERICAL, ESSAY, DESCRIPTION)
GRADED = frozenset(TYPES) - {DESCRIPTION}
BY_HAND = frozenset({ESSAY})

FORMATS = ("moodle", "html", "markdown", "plain")   # GIFT's [moodle] [html] [markdown] [plain]


@dataclass
class Choice:
    """An answer of a single, multiple, short-answer or missing-word question. `fraction` is
    the share of the question's mark it earns: 1.0 right, 0.5 half, 0 wrong, negative to
    penalise (multiple choice; the question's total is floored at 0)."""

    text: str
    fraction: float = 0.0
    feedback: str = ""


@dataclass
class Numeric:
    """An accepted numerical answer: `value` ± `tolerance`, or the range `low`..`high` (then
    `value` is their midpoint and `tolerance` half their distance)."""

    value: float
    tolerance: float = 0.0
    fraction: float = 1.0
    feedback: str = ""


@dataclass
class Pair:
    """A matching pair: the prompt and its answer. A pair with an empty prompt is a distractor
    answer."""

    prompt: str
    answer: str


@dataclass
class Question:
    qtype: str
    text: str                                  # missing word: the text before the blank
    name: str = ""                             # GIFT ::title::
    text_format: str = "moodle"
    category: str = ""                         # "$CATEGORY:" path, e.g. "服务规范/服务禁语"
    choices: list[Choice] = field(default_factory=list)     # single, multiple, short
    numerics: list[Numeric] = field(default_factory=list)   # numerical
    pairs: list[Pair] = field(default_factory=list)         # matching
    truth: bool | None = None                  # true/false: the right answer
    true_feedback: str = ""                    # true/false: shown for the answer "true"
    false_feedback: str = ""                   # true/false: shown for the answer "false"
    general_feedback: str = ""                 # GIFT ####
    text_after: str = ""                       # missing word: the text after the blank
    line: int = 0                              # where it started in its GIFT file

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("line")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Question:
        data = dict(data)
        data["choices"] = [Choice(**c) for c in data.get("choices", [])]
        data["numerics"] = [Numeric(**n) for n in data.get("numerics", [])]
        data["pairs"] = [Pair(**p) for p in data.get("pairs", [])]
        return cls(**data)

    @property
    def is_graded(self) -> bool:
        return self.qtype in GRADED

    @property
    def by_hand(self) -> bool:
        return self.qtype in BY_HAND
