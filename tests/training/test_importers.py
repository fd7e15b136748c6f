"""Content in: GIFT all or nothing with line numbers, idempotent re-import, export that
imports back to the same bank; lessons sanitised; the shipped library installs."""
from __future__ import annotations

from sqlalchemy import func, select

from app.training import importers
from app.training.models import LearningPath, Lesson, Question, Quiz
from tests.training.conftest import BANK


def _count(db):
    return db.session.scalar(select(func.count(Question.id)))


def test_gift_import_is_idempotent_and_changes_are_updates(db, now):
    first = importers.plan_gift(BANK, "bank.gift")
    assert (first.new, first.changed, first.unchanged) == (6, 0, 0)
    importers.apply_gift(first, filename="bank.gift", actor_id=None, now=now)
    again = importers.plan_gift(BANK, "bank.gift")
    assert (again.new, again.changed, again.unchanged) == (0, 0, 6)
    importers.apply_gift(again, filename="bank.gift", actor_id=None, now=now)
    assert _count(db) == 6
    changed = importers.plan_gift(BANK.replace("{#3}", "{#3:1}"), "bank.gift")
    assert (changed.new, changed.changed) == (0, 1)


def test_export_imports_back_to_the_same_bank(db, now):
    importers.apply_gift(importers.plan_gift(BANK, "bank.gift"), filename="bank.gift",
                         actor_id=None, now=now)
    before = {(q.lang, q.category, q.name): q.fingerprint for q in db.session.scalars(
        select(Question))}
    exported = importers.export_gift()
    plan = importers.plan_gift(exported, "export.gift")
    assert not plan.errors and plan.unchanged == 6 and plan.new == 0
    importers.apply_gift(plan, filename="export.gift", actor_id=None, now=now)
    assert {(q.lang, q.category, q.name): q.fingerprint
            for q in db.session.scalars(select(Question))} == before


def test_broken_gift_names_the_line_and_stores_nothing(db, now):
    broken = BANK.replace("{#3}", "{#three}")
    plan = importers.plan_gift(broken, "bank.gift")
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "{#three}" in x)) + 1
    assert [e.where for e in plan.errors] == [f"bank.gift line {line}"]
    assert "three is not a number" in plan.errors[0].message % plan.errors[0].params
    try:
        importers.apply_gift(plan, filename="bank.gift", actor_id=None, now=now)
    except ValueError:
        pass
    assert _count(db) == 0


def test_lessons_are_sanitised():
    html = importers.render_markdown("# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
                                     "\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<script" not in html and "javascript:" not in html
    assert "<h1>T</h1>" in html and "<table>" in html


def test_the_shipped_library_installs_and_again_changes_nothing(db, now):
    from app.incentives.services import install_defaults
    install_defaults(now=now)
    counts = importers.install_library(now=now)
    assert counts["questions"] >= 120 and counts["lessons"] == 20 and counts["paths"] == 2
    assert db.session.scalar(select(func.count(Quiz.id))) == 12
    by_lang = dict(db.session.execute(select(Question.lang, func.count(Question.id))
                                      .group_by(Question.lang)).all())
    assert by_lang["zh"] == by_lang["en"] >= 60
    assert importers.install_library(now=now)["questions"] == 0
    onboarding = db.session.scalar(select(LearningPath).where(
        LearningPath.code == "ONBOARDING"))
    assert len(onboarding.items) >= 20
    every_ref = {(i.kind, i.ref) for p in db.session.scalars(select(LearningPath))
                 for i in p.items}
    lessons = set(db.session.scalars(select(Lesson.code)))
    quizzes = set(db.session.scalars(select(Quiz.code)))
    for kind, ref in every_ref:
        assert (kind != "lesson" or ref in lessons) and (kind != "quiz" or ref in quizzes)


def test_every_shipped_quiz_can_draw_its_questions_in_both_languages(db, now):
    from app.incentives.services import install_defaults
    install_defaults(now=now)
    importers.install_library(now=now)
    for quiz in db.session.scalars(select(Quiz)):
        for draw in quiz.draws:
            for lang in ("zh", "en"):
                available = db.session.scalar(select(func.count(Question.id)).where(
                    Question.lang == lang, Question.category == draw["category"],
                    Question.qtype != "description"))
                assert available >= draw["count"], (quiz.code, draw, lang)
