"""The three stages, the sign-off and its points, through the services."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.incentives.models import PointEntry
from app.scenarios import services
from app.scenarios.models import ScenarioProgress, SignOff, StageAttempt
from app.scenarios.services import ScenarioError
from app.training.models import Assignment
from tests.scenarios.conftest import key_marks, play_practice, upload, walk_reverse

RUBRIC = {"opening": 4, "empathy": 4, "standard": 5, "resolution": 4}


def _entries(db, user_id):
    return list(db.session.scalars(select(PointEntry).where(PointEntry.user_id == user_id)
                                   .order_by(PointEntry.id)))


def _through_practice(db, progress, learner, now, mistakes=0):
    services.submit_case(progress.id, key_marks(progress.version.content),
                         actor_id=learner.id, now=now)
    walk_reverse(progress, learner.id, now)
    upload(progress, learner.id, now)
    return play_practice(progress, learner.id, now, mistakes=mistakes)


def test_the_whole_scenario_earns_stage_and_sign_off_points(db, library, pair, now):
    apprentice, mentor = pair["apprentice"], pair["mentor"]
    progress = services.start_scenario(apprentice.id, "S07", now=now)
    assert (progress.stage, progress.status, progress.version.version) == (1, "in_progress", 1)

    attempt = services.submit_case(progress.id, key_marks(progress.version.content),
                                   actor_id=apprentice.id, now=now)
    assert attempt.score == 100 and attempt.passed and progress.stage == 2

    walked = walk_reverse(progress, apprentice.id, now)
    assert walked.state["ended"] and len(walked.state["path"]) >= 3
    recording = upload(progress, apprentice.id, now)
    assert recording.media_type == "video/mp4" and progress.stage == 3

    finished = play_practice(progress, apprentice.id, now)
    assert finished.passed and finished.score == 100
    assert progress.status == "awaiting_sign_off" and progress.practice_score == 100
    stage_points = [e for e in _entries(db, apprentice.id)
                    if e.event == "scenario.stage_completed"]
    assert [e.details["stage"] for e in stage_points] == [1, 2, 3]
    assert all(e.blade == "growth" and e.points == 15 for e in stage_points)

    sent = services.decide_sign_off(progress.id, "sent_back", RUBRIC,
                                    "Your empathy came after the apology; practise the order.",
                                    actor=mentor, now=now + timedelta(hours=1))
    assert sent.decision == "sent_back"
    assert (progress.status, progress.stage, progress.sent_back_count) == ("in_progress", 3, 1)
    assert not [e for e in _entries(db, apprentice.id) if e.event == "sign_off.received"]

    again = play_practice(progress, apprentice.id, now + timedelta(hours=2))
    assert again.number == 2 and again.passed and progress.status == "awaiting_sign_off"
    services.decide_sign_off(progress.id, "signed_off", RUBRIC, "Well done.", actor=mentor,
                             now=now + timedelta(hours=3))
    assert progress.status == "completed" and progress.completed_at is not None
    received = [e for e in _entries(db, apprentice.id) if e.event == "sign_off.received"]
    given = [e for e in _entries(db, mentor.id) if e.event == "sign_off.given"]
    assert [(e.blade, e.points) for e in received] == [("growth", 20)]
    assert [(e.blade, e.points) for e in given] == [("participation", 10)]
    # stage 3 passed twice, its points once
    assert len([e for e in _entries(db, apprentice.id)
                if e.event == "scenario.stage_completed"]) == 3


def test_mistakes_in_the_practice_lower_the_score_until_it_fails(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S05", now=now)
    failed = _through_practice(db, progress, apprentice, now, mistakes=3)
    steps = len(failed.state["steps"])
    assert failed.score == round(100 * (steps - 3) / steps)
    assert failed.passed is False and progress.status == "in_progress"
    assert "scenario.stage_completed" not in [
        e.details.get("stage") == 3 and e.event for e in _entries(db, apprentice.id)]

    fresh = services.practise_again(progress.id, actor_id=apprentice.id, now=now)
    assert fresh.number == 2 and fresh.finished_at is None
    passed = play_practice(progress, apprentice.id, now)
    assert passed.passed and progress.status == "awaiting_sign_off"


def test_a_wrong_choice_shows_feedback_and_does_not_move_on(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S01", now=now)
    services.submit_case(progress.id, key_marks(progress.version.content),
                         actor_id=apprentice.id, now=now)
    walk_reverse(progress, apprentice.id, now)
    upload(progress, apprentice.id, now)
    play = progress.version.content["positive_practice"]
    attempt = services.practice_attempt(progress, now=now)
    # answer until the first choice node, then choose wrong
    while not play["nodes"][attempt.state["node"]].get("choices"):
        node = play["nodes"][attempt.state["node"]]
        if node.get("reply"):
            attempt, _ = services.reply_practice(progress.id, node["reply"]["model"]["zh"],
                                                 actor_id=apprentice.id, now=now)
        else:
            attempt = services.choose_practice(progress.id, None, actor_id=apprentice.id,
                                               now=now)
    node_id = attempt.state["node"]
    wrong = next(i for i, c in enumerate(play["nodes"][node_id]["choices"])
                 if not c.get("correct"))
    attempt = services.choose_practice(progress.id, wrong, actor_id=apprentice.id, now=now)
    assert attempt.state["node"] == node_id and attempt.state["tries"] == 1
    assert attempt.state["feedback"] == {"kind": "choice", "ok": False, "node": node_id,
                                         "choice": wrong}


def test_a_typed_reply_is_checked_element_by_element(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S07", now=now)
    services.submit_case(progress.id, {"L1": "greeting"}, actor_id=apprentice.id, now=now)
    walk_reverse(progress, apprentice.id, now)
    upload(progress, apprentice.id, now)
    attempt = services.practice_attempt(progress, now=now)
    node = progress.version.content["positive_practice"]["nodes"][attempt.state["node"]]
    assert node.get("reply"), "S07 opens its practice with a typed reply"
    attempt, results = services.reply_practice(progress.id, "喂，什么事？", actor_id=apprentice.id,
                                               now=now)
    verdicts = {r.code: r.passed for r in results}
    assert verdicts["greeting"] is False and verdicts["employee_number"] is False
    assert attempt.state["node"] == node and attempt.state["tries"] == 1 or \
        attempt.state["tries"] == 1
    attempt, results = services.reply_practice(progress.id, node["reply"]["model"]["zh"],
                                               actor_id=apprentice.id, now=now)
    assert all(r.passed for r in results)
    assert attempt.state["steps"][0] == {"node": "p1", "kind": "reply", "tries": 2}


def test_stage_one_scores_precision_and_recall(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S05", now=now)
    doc = progress.version.content
    key = key_marks(doc)
    innocent = next(line["id"] for line in doc["case_analysis"]["transcript"]
                    if line["id"] not in key and line["speaker"] == "agent")
    first = sorted(key)[0]
    attempt = services.submit_case(progress.id, {first: key[first], innocent: "courtesy"},
                                   actor_id=apprentice.id, now=now)
    precision, recall = 1 / 2, 1 / len(key)
    assert attempt.state["precision"] == round(precision, 3)
    assert attempt.state["recall"] == round(recall, 3)
    assert attempt.score == round(100 * 2 * precision * recall / (precision + recall))
    assert attempt.state["false_alarms"] == [innocent]
    assert set(attempt.state["missed"]) == set(key) - {first}


def test_only_the_agents_lines_can_be_marked(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S05", now=now)
    customer = next(line["id"] for line in progress.version.content["case_analysis"]
                    ["transcript"] if line["speaker"] == "customer")
    with pytest.raises(ScenarioError):
        services.submit_case(progress.id, {customer: "courtesy"}, actor_id=apprentice.id,
                             now=now)
    with pytest.raises(ScenarioError):
        services.submit_case(progress.id, {}, actor_id=apprentice.id, now=now)
    assert progress.stage == 1 and progress.case_score is None


def test_the_reverse_experience_branches_with_consequences(db, library, pair, now):
    apprentice = pair["apprentice"]
    first = services.start_scenario(apprentice.id, "S03", now=now)
    services.submit_case(first.id, key_marks(first.version.content), actor_id=apprentice.id,
                         now=now)
    play = first.version.content["reverse_experience"]
    path_a = walk_reverse(first, apprentice.id, now, choice=0).state["path"]
    services.restart_reverse(first.id, actor_id=apprentice.id, now=now)
    path_b = walk_reverse(first, apprentice.id, now, choice=1).state["path"]
    assert [s["node"] for s in path_a] != [s["node"] for s in path_b] or \
        [s["choice"] for s in path_a] != [s["choice"] for s in path_b]
    seen = [play["nodes"][s["node"]] for s in path_a]
    assert any(n.get("consequence") for n in seen) or any(
        n["choices"][s["choice"]].get("consequence")
        for n, s in zip(seen, path_a, strict=True) if s["choice"] is not None)
    with pytest.raises(ScenarioError):
        services.advance_reverse(first.id, 0, actor_id=apprentice.id, now=now)


def test_the_recording_needs_the_end_of_the_walk_and_a_reflection(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S02", now=now)
    services.submit_case(progress.id, key_marks(progress.version.content),
                         actor_id=apprentice.id, now=now)
    with pytest.raises(ScenarioError):
        upload(progress, apprentice.id, now)
    walk_reverse(progress, apprentice.id, now)
    import io
    with pytest.raises(ScenarioError):
        services.submit_recording(progress.id, io.BytesIO(b"x"), "me.mp4", "too short",
                                  actor_id=apprentice.id, now=now)
    assert progress.stage == 2


def test_nobody_plays_or_signs_off_what_is_not_theirs(db, library, pair, make_user, now):
    apprentice, mentor = pair["apprentice"], pair["mentor"]
    stranger = make_user()
    progress = services.start_scenario(apprentice.id, "S07", now=now)
    with pytest.raises(ScenarioError):
        services.submit_case(progress.id, {"L1": "greeting"}, actor_id=stranger.id, now=now)
    _through_practice(db, progress, apprentice, now)
    for actor in (stranger, pair["lead"], apprentice):
        with pytest.raises(ScenarioError):
            services.decide_sign_off(progress.id, "signed_off", RUBRIC, "", actor=actor,
                                     now=now)
    with pytest.raises(ScenarioError):   # the rubric must be complete and within 1–5
        services.decide_sign_off(progress.id, "signed_off", {**RUBRIC, "empathy": 9}, "",
                                 actor=mentor, now=now)
    with pytest.raises(ScenarioError):   # sending back needs feedback
        services.decide_sign_off(progress.id, "sent_back", RUBRIC, " ", actor=mentor, now=now)
    assert db.session.scalar(select(SignOff.id)) is None


def test_a_trainer_signs_off_an_agent_without_a_mentor(db, library, make_user, now):
    from app.auth.roles import Role
    agent, trainer = make_user(), make_user(Role.TRAINER)
    progress = services.start_scenario(agent.id, "S09", now=now)
    _through_practice(db, progress, agent, now)
    services.decide_sign_off(progress.id, "signed_off", RUBRIC, "", actor=trainer, now=now)
    assert progress.status == "completed"


def test_a_preview_earns_nothing_and_is_kept_apart(db, library, make_user, now):
    from app.auth.roles import Role
    trainer = make_user(Role.TRAINER)
    preview = services.start_scenario(trainer.id, "S01", now=now, preview=True)
    _through_practice(db, preview, trainer, now)
    assert preview.status == "awaiting_sign_off" and preview.is_preview
    assert _entries(db, trainer.id) == []
    again = services.start_scenario(trainer.id, "S01", now=now, preview=True)
    assert again.id != preview.id
    real = services.start_scenario(trainer.id, "S01", now=now)
    assert real.id not in (preview.id, again.id) and not real.is_preview


def test_progress_keeps_its_version_and_new_starts_take_the_newest(db, library, pair, now):
    import yaml

    from app.scenarios import importers
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S08", now=now)
    source = (importers.shipped_library() / "S08-not-our-department.yaml").read_text("utf-8")
    doc = yaml.safe_load(source)
    doc["version"] = 2
    doc["title"]["en"] = "Not our department (revised)"
    plan = importers.plan_import([("S08.yaml", yaml.safe_dump(doc, allow_unicode=True)
                                   .encode())])
    assert not plan.errors and plan.files[0].action == "new_version"
    importers.apply_import(plan, actor_id=None, now=now)
    assert services.start_scenario(apprentice.id, "S08", now=now).id == progress.id
    assert progress.version.version == 1
    other = pair["mentor"]
    fresh = services.start_scenario(other.id, "S08", now=now)
    assert fresh.version.version == 2 and fresh.version.title_en.endswith("(revised)")


def test_assigning_and_completing_a_scenario(db, library, pair, make_user, now):
    from app.auth.roles import Role
    lead, apprentice, mentor = pair["lead"], pair["apprentice"], pair["mentor"]
    assignment = services.assign_scenario(apprentice.id, "S07", due_on=now.date() +
                                          timedelta(days=3), reason="Two attitude complaints",
                                          actor=lead, now=now)
    assert assignment.item_kind == "scenario" and assignment.status == "open"
    outsider = make_user()
    with pytest.raises(ScenarioError):   # a lead assigns to their own team only
        services.assign_scenario(outsider.id, "S07", due_on=None, reason="", actor=lead,
                                 now=now)
    with pytest.raises(ScenarioError):
        services.assign_scenario(apprentice.id, "S07", due_on=None, reason="",
                                 actor=make_user(Role.AGENT), now=now)
    progress = services.start_scenario(apprentice.id, "S07", now=now)
    _through_practice(db, progress, apprentice, now)
    services.decide_sign_off(progress.id, "signed_off", RUBRIC, "", actor=mentor, now=now)
    assert db.session.get(Assignment, assignment.id).status == "done"


def test_attempts_are_recorded_per_stage(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S10", now=now)
    _through_practice(db, progress, apprentice, now)
    stages = [a.stage for a in db.session.scalars(
        select(StageAttempt).where(StageAttempt.progress_id == progress.id)
        .order_by(StageAttempt.id))]
    assert stages == [1, 2, 3]
    assert db.session.get(ScenarioProgress, progress.id).status == "awaiting_sign_off"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_shipped_scenario_plays_through_with_its_model_answers(db, library, pair, now,
                                                                     lang):
    from app.scenarios.models import Scenario
    apprentice = pair["apprentice"]
    for scenario in db.session.scalars(select(Scenario).order_by(Scenario.code)):
        progress = services.start_scenario(apprentice.id, scenario.code, now=now)
        services.submit_case(progress.id, key_marks(progress.version.content),
                             actor_id=apprentice.id, now=now)
        walk_reverse(progress, apprentice.id, now)
        upload(progress, apprentice.id, now)
        finished = play_practice(progress, apprentice.id, now, lang=lang)
        assert finished.passed and finished.score == 100, (scenario.code, lang)
        assert progress.status == "awaiting_sign_off", scenario.code
