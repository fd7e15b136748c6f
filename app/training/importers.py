"""Training content in: GIFT question banks (all or nothing, idempotent), micro-lessons
(Markdown with front matter, sanitised), quizzes and learning paths (YAML) — from the
shipped library or a trainer's files. Out: the bank as GIFT."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import markdown
import nh3
import yaml
from sqlalchemy import select

from app.audit.services import record_audit
from app.database import db
from app.i18n import N_
from app.training import gift
from app.training.models import LearningPath, Lesson, PathItem, Question, Quiz
from app.training.questions import Question as QuestionData

LIBRARY = Path(__file__).parent / "library"
_CJK = re.compile(r"[\u3400-\u9fff]")
KINDS = ("lesson", "quiz", "scenario", "sign_off")


@dataclass
class ContentError:
    where: str          # "onboarding.zh.gift line 12", "paths/onboarding.yaml items[3].requires"
    message: str        # English msgid
    params: dict = field(default_factory=dict)

    def english(self) -> str:
        return f"{self.where}: {self.message % self.params}"


def language_of(text: str) -> str:
    return "zh" if _CJK.search(text or "") else "en"


def _fingerprint(lang: str, data: dict) -> str:
    return hashlib.sha256(json.dumps([lang, data], sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


# --- the question bank (GIFT) -------------------------------------------------------------

@dataclass
class GiftPlan:
    questions: list[tuple[str, QuestionData]] = field(default_factory=list)   # (lang, q)
    errors: list[ContentError] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0


def plan_gift(text: str, filename: str, *, category: str = "") -> GiftPlan:
    """Parse a GIFT file and decide, question by question, what importing it would do.
    Questions are matched by (language, category, title): a titled question found with other
    content is changed; an untitled one is matched by its content."""
    plan = GiftPlan()
    parsed, errors = gift.parse(text, category=category)
    for error in errors:
        plan.errors.append(ContentError(f"{filename} line {error.line}", error.message,
                                        error.params))
    if plan.errors:
        return plan
    if not parsed:
        plan.errors.append(ContentError(filename, N_("The file holds no questions.")))
        return plan
    seen: set[tuple] = set()
    for question in parsed:
        lang = language_of(question.text + question.text_after + question.name)
        if not question.category:
            question.category = "default"
        key = (lang, question.category, question.name) if question.name else None
        if key is not None and key in seen:
            plan.errors.append(ContentError(
                f"{filename} line {question.line}",
                N_("The title %(name)s is used twice in the category %(category)s."),
                {"name": question.name, "category": question.category}))
            continue
        if key is not None:
            seen.add(key)
        data = question.to_dict()
        existing = _match(lang, question, data)
        if existing is None:
            plan.new += 1
        elif existing.fingerprint == _fingerprint(lang, data):
            plan.unchanged += 1
        else:
            plan.changed += 1
        plan.questions.append((lang, question))
    return plan


def _match(lang: str, question: QuestionData, data: dict) -> Question | None:
    if question.name:
        return db.session.scalar(select(Question).where(
            Question.lang == lang, Question.category == question.category,
            Question.name == question.name))
    return db.session.scalar(select(Question).where(
        Question.fingerprint == _fingerprint(lang, data)))


def apply_gift(plan: GiftPlan, *, filename: str, actor_id: int | None, now: datetime) -> dict:
    if plan.errors:
        raise ValueError("a plan with errors is never applied")
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    for lang, question in plan.questions:
        data = question.to_dict()
        fingerprint = _fingerprint(lang, data)
        existing = _match(lang, question, data)
        if existing is None:
            db.session.add(Question(qtype=question.qtype, lang=lang, category=question.category,
                                    name=question.name, body=data, fingerprint=fingerprint,
                                    is_active=True, created_at=now, updated_at=now))
            counts["new"] += 1
        elif existing.fingerprint != fingerprint:
            existing.qtype, existing.body = question.qtype, data
            existing.fingerprint, existing.updated_at, existing.is_active = fingerprint, now, True
            counts["changed"] += 1
        else:
            counts["unchanged"] += 1
        db.session.flush()
    if counts["new"] or counts["changed"]:
        record_audit("training.gift_imported", actor_id=actor_id, now=now,
                     details={"file": filename, **counts})
    return counts


def question_gift(question: Question) -> str:
    """One question as GIFT, without its category line."""
    data = QuestionData.from_dict(question.body)
    data.category = ""
    return gift.export([data]).strip() + "\n"


def replace_question(question: Question, text: str, *, now: datetime) -> list[ContentError]:
    """Give a question new content from its GIFT; it keeps its category and language."""
    parsed, errors = gift.parse(text, category=question.category)
    problems = [ContentError(f"line {e.line}", e.message, e.params) for e in errors]
    if not problems and len(parsed) != 1:
        problems.append(ContentError("GIFT", N_("Write exactly one question.")))
    if problems:
        return problems
    data = parsed[0]
    data.category = question.category
    body = data.to_dict()
    question.qtype, question.name, question.body = data.qtype, data.name, body
    question.fingerprint = _fingerprint(question.lang, body)
    question.updated_at = now
    db.session.flush()
    return []


def export_gift(*, lang: str | None = None, category: str | None = None) -> str:
    """The bank (or one language, or one category and those below it) as a GIFT file."""
    query = select(Question).where(Question.is_active.is_(True)).order_by(
        Question.category, Question.id)
    if lang:
        query = query.where(Question.lang == lang)
    if category:
        query = query.where((Question.category == category)
                            | Question.category.startswith(category + "/"))
    return gift.export([QuestionData.from_dict(q.body) for q in db.session.scalars(query)])


# --- micro-lessons ------------------------------------------------------------------------

ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "code", "pre",
                "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "a"}


def render_markdown(text: str) -> str:
    """Markdown → HTML with only harmless tags and attributes left (no scripts, no styles,
    no raw HTML, links with rel=noopener)."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"])
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def parse_lesson(text: str, where: str) -> tuple[dict | None, list[ContentError]]:
    match = re.match(r"\A\ufeff?---\s*\n(.*?)\n---\s*\n(.*)\Z", text, re.S)
    if not match:
        return None, [ContentError(where, N_("A lesson starts with front matter between two "
                                             "--- lines."))]
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        return None, [ContentError(where, N_("The front matter is not valid YAML: %(problem)s"),
                                   {"problem": str(exc)[:200]})]
    errors = []
    for key in ("code", "lang", "title"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            errors.append(ContentError(where, N_("The front matter needs %(field)s."),
                                       {"field": key}))
    if meta.get("lang") not in (None, "zh", "en"):
        errors.append(ContentError(where, N_("The language must be zh or en.")))
    if not match.group(2).strip():
        errors.append(ContentError(where, N_("The lesson has no text.")))
    meta["markdown"] = match.group(2)
    return (None if errors else meta), errors


VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}


def media_dir() -> Path:
    from flask import current_app
    path = Path(current_app.config["TRAINING_MEDIA_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_video(data: bytes, filename: str) -> tuple[str | None, ContentError | None]:
    """Keep a lesson's video when its bytes are the video its name says; its stored name."""
    import secrets

    import filetype
    suffix = Path(filename or "").suffix.lower()
    kind = filetype.guess(data[:8192])
    if suffix not in VIDEO_TYPES or kind is None or kind.mime != VIDEO_TYPES[suffix]:
        return None, ContentError(filename or "video", N_(
            "The video must be an mp4 or webm file, and this one is not."))
    name = f"{secrets.token_hex(12)}{suffix}"
    (media_dir() / name).write_bytes(data)
    return name, None


def save_lesson(meta: dict, *, now: datetime) -> Lesson:
    lesson = db.session.scalar(select(Lesson).where(Lesson.code == meta["code"],
                                                    Lesson.lang == meta["lang"]))
    if lesson is None:
        lesson = Lesson(code=meta["code"], lang=meta["lang"])
        db.session.add(lesson)
    lesson.title = meta["title"][:200]
    lesson.minutes = int(meta.get("minutes") or 5)
    lesson.video = meta.get("video") or None
    lesson.quiz_code = meta.get("quiz") or None
    lesson.markdown = meta["markdown"]
    lesson.html = render_markdown(meta["markdown"])
    lesson.updated_at = now
    db.session.flush()
    return lesson


# --- quizzes and paths --------------------------------------------------------------------

def _both(value, where: str, errors: list[ContentError]) -> tuple[str, str]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k].strip()
                                              for k in ("zh", "en")):
        errors.append(ContentError(where, N_("Give it in both languages: {zh: …, en: …}.")))
        return "", ""
    return value["zh"], value["en"]


def save_quiz(spec: dict, *, now: datetime, where: str = "quiz") -> tuple[Quiz | None,
                                                                         list[ContentError]]:
    errors: list[ContentError] = []
    code = spec.get("code")
    if not isinstance(code, str) or not re.match(r"^[A-Z0-9][A-Z0-9_-]{0,39}$", code):
        errors.append(ContentError(where, N_("A quiz code is capital letters, digits, - or _.")))
    title_zh, title_en = _both(spec.get("title"), f"{where}.title", errors)
    draws = spec.get("draws") or []
    fixed = spec.get("questions") or []
    if not draws and not fixed:
        errors.append(ContentError(where, N_("A quiz needs fixed questions or draws.")))
    for i, draw in enumerate(draws):
        if not isinstance(draw, dict) or not isinstance(draw.get("category"), str) or \
                not isinstance(draw.get("count"), int) or draw["count"] < 1:
            errors.append(ContentError(f"{where}.draws[{i}]", N_(
                "A draw names a category and a count of at least 1.")))
    grading = spec.get("grading", "highest")
    if grading not in ("highest", "last", "first", "average"):
        errors.append(ContentError(f"{where}.grading", N_(
            "Grading is highest, last, first or average.")))
    review = spec.get("review", "after_attempt")
    if review not in ("after_attempt", "after_pass", "never"):
        errors.append(ContentError(f"{where}.review", N_(
            "Review is after_attempt, after_pass or never.")))
    pass_mark = spec.get("pass_mark", 90)
    if not isinstance(pass_mark, (int, float)) or not 0 <= pass_mark <= 100:
        errors.append(ContentError(f"{where}.pass_mark", N_("The pass mark is 0 to 100.")))
    if errors:
        return None, errors
    quiz = db.session.scalar(select(Quiz).where(Quiz.code == code))
    if quiz is None:
        quiz = Quiz(code=code, created_at=now)
        db.session.add(quiz)
    quiz.title_zh, quiz.title_en = title_zh[:200], title_en[:200]
    quiz.draws = [{"category": d["category"], "count": d["count"]} for d in draws]
    quiz.fixed = [str(name) for name in fixed]
    quiz.shuffle = bool(spec.get("shuffle", True))
    quiz.time_limit_minutes = spec.get("time_limit_minutes") or None
    quiz.attempts_allowed = int(spec.get("attempts") or 0)
    quiz.grading, quiz.review, quiz.pass_mark = grading, review, float(pass_mark)
    quiz.remedial = spec.get("remedial") or None
    quiz.is_active = True
    db.session.flush()
    return quiz, []


def validate_path(spec: dict, where: str) -> list[ContentError]:
    errors: list[ContentError] = []
    if not isinstance(spec, dict):
        return [ContentError(where, N_("A path file is a YAML mapping."))]
    if not isinstance(spec.get("code"), str):
        errors.append(ContentError(where, N_("A path needs a code.")))
    _both(spec.get("title"), f"{where}.title", errors)
    if spec.get("due_from", "hire") not in ("hire", "enrolment"):
        errors.append(ContentError(f"{where}.due_from", N_("due_from is hire or enrolment.")))
    items = spec.get("items")
    if not isinstance(items, list) or not items:
        errors.append(ContentError(f"{where}.items", N_("A path needs items.")))
        return errors
    seen: set[str] = set()
    for i, item in enumerate(items):
        at = f"{where}.items[{i}]"
        if not isinstance(item, dict):
            errors.append(ContentError(at, N_("An item is a mapping.")))
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code or code in seen:
            errors.append(ContentError(f"{at}.code", N_("Every item needs its own code.")))
        if item.get("kind") not in KINDS:
            errors.append(ContentError(f"{at}.kind", N_(
                "The kind is lesson, quiz, scenario or sign_off.")))
        if not isinstance(item.get("ref"), str) or not item["ref"]:
            errors.append(ContentError(f"{at}.ref", N_("Name the lesson, quiz or scenario.")))
        if not isinstance(item.get("due_days"), int) or item["due_days"] < 0:
            errors.append(ContentError(f"{at}.due_days", N_(
                "due_days is a whole number of days, 0 or more.")))
        _both(item.get("title"), f"{at}.title", errors)
        for required in item.get("requires") or []:
            if required not in seen:
                errors.append(ContentError(f"{at}.requires", N_(
                    "%(code)s is not an earlier item of this path."), {"code": str(required)}))
        if isinstance(code, str):
            seen.add(code)
    return errors


def save_path(spec: dict, *, now: datetime) -> LearningPath:
    path = db.session.scalar(select(LearningPath).where(LearningPath.code == spec["code"]))
    if path is None:
        path = LearningPath(code=spec["code"], created_at=now)
        db.session.add(path)
    path.title_zh, path.title_en = spec["title"]["zh"], spec["title"]["en"]
    description = spec.get("description") or {}
    path.description_zh = description.get("zh", "")
    path.description_en = description.get("en", "")
    path.due_from = spec.get("due_from", "hire")
    path.is_active = True
    db.session.flush()
    existing = {item.code: item for item in path.items}
    for position, spec_item in enumerate(spec["items"]):
        item = existing.pop(spec_item["code"], None)
        if item is None:
            item = PathItem(path_id=path.id, code=spec_item["code"])
            db.session.add(item)
        item.position, item.kind, item.ref = position, spec_item["kind"], spec_item["ref"]
        item.title_zh, item.title_en = spec_item["title"]["zh"], spec_item["title"]["en"]
        item.due_days, item.requires = spec_item["due_days"], list(spec_item.get("requires")
                                                                     or [])
    for stale in existing.values():
        db.session.delete(stale)
    db.session.flush()
    db.session.refresh(path)
    return path


# --- the shipped library ------------------------------------------------------------------

def install_library(*, now: datetime, actor_id: int | None = None,
                    root: Path = LIBRARY) -> dict:
    """Install the shipped bank, lessons, quizzes and paths; what is there already is
    updated in place. All or nothing: any error raises before anything is written."""
    errors: list[ContentError] = []
    plans = []
    for path in sorted((root / "questions").glob("*.gift")):
        plan = plan_gift(path.read_text("utf-8-sig"), path.name)
        errors.extend(plan.errors)
        plans.append((path.name, plan))
    lessons = []
    for path in sorted((root / "lessons").glob("*.md")):
        meta, problems = parse_lesson(path.read_text("utf-8-sig"), f"lessons/{path.name}")
        errors.extend(problems)
        if meta:
            lessons.append(meta)
    quizzes = yaml.safe_load((root / "quizzes.yaml").read_text("utf-8")) or []
    paths = [(p.name, yaml.safe_load(p.read_text("utf-8")))
             for p in sorted((root / "paths").glob("*.yaml"))]
    for name, spec in paths:
        errors.extend(validate_path(spec, f"paths/{name}"))
    if errors:
        raise ValueError("; ".join(e.english() for e in errors[:5]))
    counts = {"questions": 0, "lessons": 0, "quizzes": 0, "paths": 0}
    for name, plan in plans:
        counts["questions"] += apply_gift(plan, filename=name, actor_id=actor_id,
                                          now=now)["new"]
    for meta in lessons:
        save_lesson(meta, now=now)
        counts["lessons"] += 1
    for i, spec in enumerate(quizzes):
        quiz, problems = save_quiz(spec, now=now, where=f"quizzes.yaml[{i}]")
        if problems:
            raise ValueError("; ".join(e.english() for e in problems[:5]))
        counts["quizzes"] += 1
    for _name, spec in paths:
        save_path(spec, now=now)
        counts["paths"] += 1
    return counts
