"""Training's tables: assignments of learning items (remediation after a QA critical fail, a
team lead's or a trainer's assignment, special topics), the question bank, quizzes and their
attempts, micro-lessons, learning paths and their enrolments, mentors' observation notes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, db


class Assignment(db.Model):
    """A learning item an agent must do: a scenario or a micro-lesson, named by its code,
    with why (the source) and by when."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("item_kind IN ('scenario', 'lesson', 'quiz', 'path')",
                        name="item_kind"),
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status"),
        Index("ix_assignments_user_status", "user_id", "status"),
        Index("ix_assignments_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    item_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    item_code: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # why it was assigned, e.g. ("qa_evaluation", "17"): what the agent is shown
    source_type: Mapped[str] = mapped_column(String(30), nullable=False)
    source_id: Mapped[str] = mapped_column(String(40), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User", foreign_keys=[user_id])


class Question(db.Model):
    """A question of the bank, in one language. `body` is `questions.Question.to_dict()`; an
    attempt keeps its own copy, so editing a question never changes a graded attempt."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("lang IN ('zh', 'en')", name="lang"),
        Index("ix_questions_category", "category", "lang"),
        Index("ix_questions_name", "name", "lang"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    qtype: Mapped[str] = mapped_column(String(12), nullable=False)
    lang: Mapped[str] = mapped_column(String(2), nullable=False)
    category: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)    # GIFT ::title::, or ""
    body: Mapped[dict] = mapped_column(JSON, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Quiz(db.Model):
    """A quiz: fixed questions and/or random draws from categories, with its policy."""

    __tablename__ = "quizzes"
    __table_args__ = (
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark"),
        CheckConstraint("grading IN ('highest', 'last', 'first', 'average')", name="grading"),
        CheckConstraint("review IN ('after_attempt', 'after_pass', 'never')", name="review"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    # [{"category": "onboarding/faq", "count": 5}], fixed question names
    draws: Mapped[list] = mapped_column(JSON, nullable=False)
    fixed: Mapped[list] = mapped_column(JSON, nullable=False)
    shuffle: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts_allowed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # 0: any
    grading: Mapped[str] = mapped_column(String(10), nullable=False, default="highest")
    pass_mark: Mapped[float] = mapped_column(Float, nullable=False, default=90.0)
    review: Mapped[str] = mapped_column(String(15), nullable=False, default="after_attempt")
    remedial: Mapped[str | None] = mapped_column(String(40), nullable=True)   # a lesson code
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class QuizAttempt(db.Model):
    """One go at a quiz: the questions as drawn (with their text at that time), the answers
    saved as they are given, the marks once submitted."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        CheckConstraint("status IN ('in_progress', 'pending_review', 'graded')",
                        name="status"),
        CheckConstraint("percent IS NULL OR percent BETWEEN 0 AND 100", name="percent"),
        UniqueConstraint("quiz_id", "user_id", "number"),
        Index("ix_quiz_attempts_user", "user_id", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    lang: Mapped[str] = mapped_column(String(2), nullable=False)
    # [{"question_id": 3, "body": {...}, "order": [2, 0, 1]}]: the choices' shown order
    questions: Mapped[list] = mapped_column(JSON, nullable=False)
    responses: Mapped[dict] = mapped_column(JSON, nullable=False)      # "index" → response
    marks: Mapped[list | None] = mapped_column(JSON, nullable=True)    # per question
    status: Mapped[str] = mapped_column(String(15), nullable=False, default="in_progress")
    percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    quiz = relationship("Quiz")
    user = relationship("User", foreign_keys=[user_id])


class Lesson(db.Model):
    """A micro-lesson in one language: Markdown as written, the sanitised HTML shown."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("code", "lang"),
                      CheckConstraint("lang IN ('zh', 'en')", name="lang"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    lang: Mapped[str] = mapped_column(String(2), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    video: Mapped[str | None] = mapped_column(String(200), nullable=True)
    quiz_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    markdown: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class LessonRead(db.Model):
    """An agent read a lesson to its end."""

    __tablename__ = "lesson_reads"
    __table_args__ = (UniqueConstraint("user_id", "lesson_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    lesson_code: Mapped[str] = mapped_column(String(40), nullable=False)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class LearningPath(db.Model):
    __tablename__ = "learning_paths"
    __table_args__ = (CheckConstraint("due_from IN ('hire', 'enrolment')", name="due_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_zh: Mapped[str] = mapped_column(Text, nullable=False, default="")
    due_from: Mapped[str] = mapped_column(String(10), nullable=False, default="hire")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    items = relationship("PathItem", back_populates="path", order_by="PathItem.position")


class PathItem(db.Model):
    __tablename__ = "path_items"
    __table_args__ = (
        UniqueConstraint("path_id", "code"),
        CheckConstraint("kind IN ('lesson', 'quiz', 'scenario', 'sign_off')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_paths.id"), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    ref: Mapped[str] = mapped_column(String(40), nullable=False)   # lesson, quiz or scenario
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    due_days: Mapped[int] = mapped_column(Integer, nullable=False)
    requires: Mapped[list] = mapped_column(JSON, nullable=False)   # item codes

    path = relationship("LearningPath", back_populates="items")


class Enrolment(db.Model):
    __tablename__ = "path_enrolments"
    __table_args__ = (UniqueConstraint("path_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_paths.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    enrolled_on: Mapped[date] = mapped_column(Date, nullable=False)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(40), nullable=False)   # "cohort:2026-11" …
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    path = relationship("LearningPath")
    user = relationship("User", foreign_keys=[user_id])


class ObservationNote(db.Model):
    """A mentor's note of what they observed in an apprentice's work after training."""

    __tablename__ = "observation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False,
                                               index=True)
    observed_on: Mapped[date] = mapped_column(Date, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    mentor = relationship("User", foreign_keys=[mentor_id])
