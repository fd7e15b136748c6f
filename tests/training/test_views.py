"""Training through its pages: a quiz taken with answers saved as they go, a failed attempt
pointing to the lesson and a retake, the trainer's GIFT upload with line-numbered errors,
the export, the report as CSV with cells escaped, the certificate, the mentor's notes."""
from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from app.auth.roles import Role
from app.training import importers, paths
from app.training.models import ObservationNote, QuizAttempt
from tests.conftest import PASSWORD
from tests.training.conftest import RIGHT


def _sign_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.employee_number,
                                       "password": PASSWORD}).status_code == 302
    return client


def _fields(attempt, wrong: int = 0) -> dict:
    """The form fields of right answers (the first `wrong` questions answered wrong)."""
    data = {}
    for i, entry in enumerate(attempt.questions):
        body, name = entry["body"], entry["body"]["name"]
        right = RIGHT[name]
        if body["qtype"] == "single":
            data[f"q{i}"] = str(entry["order"].index(1 if i < wrong else right))
        elif body["qtype"] == "multiple":
            data[f"q{i}"] = [str(entry["order"].index(k)) for k in ([2] if i < wrong else right)]
        elif body["qtype"] == "truefalse":
            data[f"q{i}"] = "false" if i < wrong else "true"
        elif body["qtype"] == "numerical":
            data[f"q{i}"] = "9" if i < wrong else right
        elif body["qtype"] == "matching":
            prompts = [p["prompt"] for p in body["pairs"] if p["prompt"]]
            for k, prompt in enumerate(prompts):
                data[f"q{i}-{k}"] = "" if i < wrong else right[prompt]
    return data


def test_an_agent_fails_reads_the_lesson_and_passes_on_the_retake(app, db, bank, make_user):
    agent = make_user()
    client = _sign_in(app, agent)
    start = client.post("/training/quizzes/QB/start")
    assert start.status_code == 302
    attempt = db.session.scalar(select(QuizAttempt))
    page = client.get(start.headers["Location"]).get_data(as_text=True)
    assert 'id="attempt-form"' in page and page.count('class="question card') == 5
    # one answer saved as it is given (the page's script)
    saved = client.post(f"/training/attempts/{attempt.id}/answer",
                        data={"index": "1", "q1": "3"}, headers={"Accept": "application/json"})
    assert saved.get_json()["saved"] is True
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).responses == {"1": "3"}
    # submit two wrong: 60 %, not passed, pointed to the lesson
    done = client.post(f"/training/attempts/{attempt.id}/answer",
                       data=_fields(attempt, wrong=2) | {"submit": "1"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Score 60 %" in text and 'data-testid="remedial"' in text
    assert "/training/lessons/L-B" in text
    lesson = client.get("/training/lessons/L-B").get_data(as_text=True)
    assert "<script>alert" not in lesson and "<li>一</li>" in lesson
    client.post("/training/lessons/L-B")
    retake = client.post("/training/quizzes/QB/start")
    second = db.session.scalar(select(QuizAttempt).where(QuizAttempt.number == 2))
    passed = client.post(f"/training/attempts/{second.id}/answer",
                         data=_fields(second) | {"submit": "1"}, follow_redirects=True)
    assert retake.status_code == 302 and "Score 100 % — passed" in passed.get_data(as_text=True)
    quiz_page = client.get("/training/quizzes/QB").get_data(as_text=True)
    assert "Your grade: 100 %" in quiz_page


def test_an_answer_after_the_time_limit_is_refused(app, db, bank, make_user, monkeypatch):
    from datetime import timedelta

    from app.training import views
    agent = make_user()
    client = _sign_in(app, agent)
    client.post("/training/quizzes/QT/start")
    attempt = db.session.scalar(select(QuizAttempt))
    later = attempt.deadline_at + timedelta(minutes=1)
    monkeypatch.setattr(views, "utcnow", lambda: later)
    late = client.post(f"/training/attempts/{attempt.id}/answer",
                       data={"index": "0", "q0": "0"}, headers={"Accept": "application/json"})
    assert late.status_code == 409 and late.get_json()["saved"] is False


def test_the_trainer_imports_gift_and_sees_the_errors_by_line(app, db, bank, make_user):
    trainer = _sign_in(app, make_user(Role.TRAINER))
    broken = "::X-1:: 问题一 {=对 ~错}\n\n::X-2:: 问题二 {#abc}\n"
    refused = trainer.post("/training/bank", data={"file": (io.BytesIO(broken.encode()),
                                                            "x.gift")},
                           content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "x.gift line 3" in text and "abc is not a number" in text
    good = trainer.post("/training/bank", data={
        "file": (io.BytesIO("::X-1:: 问题一 {=对 ~错}\n".encode()), "x.gift"),
        "category": "t/new"}, content_type="multipart/form-data", follow_redirects=True)
    assert "Questions: 1 new, 0 changed, 0 unchanged." in good.get_data(as_text=True)
    exported = trainer.get("/training/bank/export?category=t/new")
    assert exported.data.decode("utf-8").startswith("$CATEGORY: t/new")
    plan = importers.plan_gift(exported.data.decode("utf-8"), "again.gift")
    assert plan.unchanged == 1 and not plan.errors


def test_the_report_exports_with_cells_escaped(app, db, bank, make_user, make_team, now):
    team = make_team("=HYPERLINK(\"http://x\")")
    make_user(Role.AGENT, team=team)
    trainer = _sign_in(app, make_user(Role.TRAINER))
    csv = trainer.get("/training/report?format=csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv
    xlsx = trainer.get("/training/report?by=cohort&format=xlsx")
    assert xlsx.data[:2] == b"PK"
    page = trainer.get("/training/report").get_data(as_text=True)
    assert 'id="trcoverage-data"' in page


def test_a_completed_path_shows_its_certificate(app, db, bank, make_user, now):
    importers.save_path({"code": "P1", "title": {"zh": "入职", "en": "Onboarding"},
                         "items": [{"code": "A", "kind": "lesson", "ref": "L-B",
                                    "title": {"zh": "课", "en": "Lesson"}, "due_days": 1}]},
                        now=now)
    agent = make_user(name="学员小林")
    paths.enrol("P1", [agent.id], source="individual", actor_id=None, now=now)
    db.session.commit()
    client = _sign_in(app, agent)
    assert client.get("/training/paths/P1/certificate").status_code == 404
    client.post("/training/lessons/L-B")
    certificate = client.get("/training/paths/P1/certificate").get_data(as_text=True)
    assert "学员小林" in certificate and "Certificate of completion" in certificate


def test_a_mentor_follows_apprentices_and_writes_notes(app, db, bank, make_user, now):
    from app.auth.services import assign_mentor
    mentor = make_user(Role.AGENT, Role.MENTOR)
    apprentice = make_user(name="徒弟小周", hire_date=date(2026, 3, 2))
    assign_mentor(apprentice.id, mentor.id, started_on=date(2026, 3, 2), actor_id=None,
                  now=now)
    importers.save_path({"code": "P1", "title": {"zh": "入职", "en": "Onboarding"},
                         "items": [{"code": "A", "kind": "lesson", "ref": "L-B",
                                    "title": {"zh": "课", "en": "Lesson"}, "due_days": 1}]},
                        now=now)
    paths.enrol("P1", [apprentice.id], source="individual", actor_id=None, now=now)
    db.session.commit()
    client = _sign_in(app, mentor)
    page = client.get("/training/people").get_data(as_text=True)
    assert "徒弟小周" in page and "/training/paths/P1?user=" in page
    assert client.get(f"/training/paths/P1?user={apprentice.id}").status_code == 200
    client.post("/training/notes", data={"apprentice_id": apprentice.id,
                                         "observed_on": "2026-03-20",
                                         "text": "开场规范，语速偏快。"})
    note = db.session.scalar(select(ObservationNote))
    assert (note.mentor_id, note.apprentice_id, note.text) == (mentor.id, apprentice.id,
                                                               "开场规范，语速偏快。")
    stranger = make_user()
    db.session.commit()
    other = _sign_in(app, stranger)
    assert other.get(f"/training/paths/P1?user={apprentice.id}").status_code == 403


def test_a_special_topic_reaches_everyone_in_the_teams(app, db, bank, make_user, make_team):
    from app.training.models import Assignment
    first, second = make_team("One"), make_team("Two")
    people = [make_user(team=first), make_user(team=first), make_user(team=second)]
    trainer = _sign_in(app, make_user(Role.TRAINER))
    trainer.post("/training/special-topics", data={
        "item": "lesson:L-B", "teams": [str(first.id)], "due_on": "2026-12-31",
        "reason": "Complaints about transfers"})
    assigned = {a.user_id for a in db.session.scalars(select(Assignment))}
    assert assigned == {people[0].id, people[1].id}
    room = _sign_in(app, people[0]).get("/training/").get_data(as_text=True)
    assert 'data-testid="assigned-training"' in room and "Complaints about transfers" in room


def test_the_trainer_adds_a_lesson_with_a_video_and_a_path(app, db, bank, make_user,
                                                           tmp_path, monkeypatch):
    from tests.scenarios.conftest import MP4
    monkeypatch.setitem(app.config, "TRAINING_MEDIA_DIR", str(tmp_path))
    trainer = _sign_in(app, make_user(Role.TRAINER))
    lesson = ("---\ncode: L-NEW\nlang: en\ntitle: Holding music\nminutes: 3\nquiz: QB\n---\n"
              "# Holding\n\nApologise after **3 minutes**.<img src=x onerror=alert(1)>\n")
    fake = trainer.post("/training/lessons", data={
        "file": (io.BytesIO(lesson.encode()), "L-NEW.en.md"),
        "video": (io.BytesIO(b"not a video" * 100), "clip.mp4")},
        content_type="multipart/form-data")
    assert fake.status_code == 400 and "mp4 or webm" in fake.get_data(as_text=True)
    saved = trainer.post("/training/lessons", data={
        "file": (io.BytesIO(lesson.encode()), "L-NEW.en.md"),
        "video": (io.BytesIO(MP4), "clip.mp4")}, content_type="multipart/form-data")
    assert saved.status_code == 302
    page = trainer.get("/training/lessons/L-NEW").get_data(as_text=True)
    assert "<strong>3 minutes</strong>" in page and "onerror" not in page
    video = page.split('data-testid="lesson-video" src="')[1].split('"')[0]
    assert trainer.get(video).data == MP4
    path = ("code: P-NEW\ntitle: {zh: 新路径, en: New path}\nitems:\n"
            "  - {code: A, kind: lesson, ref: L-NEW, title: {zh: 课, en: Lesson}, due_days: 2}\n"
            "  - {code: B, kind: quiz, ref: QB, title: {zh: 测, en: Quiz}, due_days: 3,"
            " requires: [Z]}\n")
    refused = trainer.post("/training/paths/upload", data={
        "file": (io.BytesIO(path.encode()), "p.yaml")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "Z is not an earlier item" in refused.get_data(as_text=True)
    trainer.post("/training/paths/upload", data={
        "file": (io.BytesIO(path.replace("[Z]", "[A]").encode()), "p.yaml")},
        content_type="multipart/form-data")
    assert "P-NEW" in trainer.get("/training/paths").get_data(as_text=True)


def test_the_agents_home_shows_the_path_and_its_next_step(app, db, bank, make_user, now):
    importers.save_path({"code": "P1", "title": {"zh": "入职路径", "en": "Onboarding"},
                         "items": [{"code": "A", "kind": "lesson", "ref": "L-B",
                                    "title": {"zh": "第一课", "en": "Lesson one"},
                                    "due_days": 1}]}, now=now)
    agent = make_user()
    paths.enrol("P1", [agent.id], source="individual", actor_id=None, now=now)
    db.session.commit()
    home = _sign_in(app, agent).get("/home/agent").get_data(as_text=True)
    assert 'data-testid="home-paths"' in home and "Lesson one" in home
    assert "0 of 1 steps done" in home


def test_the_trainer_edits_a_question_as_gift_and_takes_one_out(app, db, bank, make_user):
    from app.training.models import Question
    trainer = _sign_in(app, make_user(Role.TRAINER))
    question = db.session.scalar(select(Question).where(Question.name == "B-2"))
    page = trainer.get(f"/training/bank/questions/{question.id}").get_data(as_text=True)
    assert "::B-2::" in page and "{#3}" in page
    bad = trainer.post(f"/training/bank/questions/{question.id}",
                       data={"gift": "::B-2:: 几声？{#x}"}, follow_redirects=True)
    assert "x is not a number" in bad.get_data(as_text=True)
    trainer.post(f"/training/bank/questions/{question.id}",
                 data={"gift": "::B-2:: 电话应在几声铃响内接听？{#3:0####三声之内。}"})
    db.session.expire_all()
    edited = db.session.get(Question, question.id)
    assert edited.body["general_feedback"] == "三声之内。" and edited.category == "t/basics"
    trainer.post(f"/training/bank/questions/{question.id}",
                 data={"gift": "x", "remove": "y"})
    db.session.expire_all()
    assert db.session.get(Question, question.id).is_active is False


def test_an_observation_note_is_only_for_ones_own_apprentice(db, make_user, now):
    import pytest

    from app.errors import DomainError
    from app.training.services import add_observation_note
    mentor, stranger = make_user(Role.AGENT, Role.MENTOR), make_user()
    with pytest.raises(DomainError):
        add_observation_note(mentor.id, stranger.id, now.date(), "Spoke well.", now=now)
    assert db.session.scalar(select(ObservationNote)) is None
