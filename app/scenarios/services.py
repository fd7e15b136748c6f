"""The training room's write side: starting a scenario, the three stages, the recording and
reflection, the mentor's sign-off, assigning a scenario. Points go through the incentive
services; assignments through the training services."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.audit.services import record_audit
from app.auth.models import Mentorship, User
from app.auth.queries import led_team_ids
from app.auth.roles import Permission
from app.centre.events import learning_event
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives import services as incentives
from app.incentives.rules import Event
from app.notifications.services import notify
from app.scenarios import rules, sop, uploads
from app.scenarios.models import (
    Recording,
    Scenario,
    ScenarioProgress,
    ScenarioVersion,
    SignOff,
    StageAttempt,
)
from app.training import services as training
from app.training.models import Assignment


class ScenarioError(DomainError):
    pass


# --- helpers ------------------------------------------------------------------------------

def _progress_of(progress_id: int, actor_id: int) -> ScenarioProgress:
    """The learner's own progress: nobody plays another's scenario."""
    progress = db.session.get(ScenarioProgress, progress_id)
    if progress is None or progress.user_id != actor_id:
        raise ScenarioError(N_("This training is not yours."))
    return progress


def _content(progress: ScenarioProgress) -> dict:
    return progress.version.content


def _attempt(progress: ScenarioProgress, stage: int) -> StageAttempt | None:
    """The unfinished attempt of a stage, if any."""
    return db.session.scalar(
        select(StageAttempt).where(StageAttempt.progress_id == progress.id,
                                   StageAttempt.stage == stage,
                                   StageAttempt.finished_at.is_(None))
        .order_by(StageAttempt.id.desc()))


def _new_attempt(progress: ScenarioProgress, stage: int, state: dict,
                 now: datetime) -> StageAttempt:
    number = len([a for a in progress.attempts if a.stage == stage]) + 1
    attempt = StageAttempt(progress_id=progress.id, stage=stage, number=number, state=state,
                           started_at=now)
    db.session.add(attempt)
    db.session.flush()
    db.session.refresh(progress, ["attempts"])
    return attempt


def _require_stage(progress: ScenarioProgress, stage: int) -> None:
    if progress.status != "in_progress" or progress.stage != stage:
        raise ScenarioError(N_("This stage is not open: the scenario is at another stage."))


def _points(progress: ScenarioProgress, key: str) -> int | None:
    """The scenario file's own points for `key` ("stage" or "sign_off"), bounded by the rule;
    None when the file leaves it to the rule."""
    asked = (_content(progress).get("points") or {}).get(key)
    if asked is None:
        return None
    event = Event.SCENARIO_STAGE_COMPLETED if key == "stage" else Event.SIGN_OFF_RECEIVED
    bound = incentives.points_bound(event)
    return min(asked, bound) if bound else None


def _award_stage(progress: ScenarioProgress, stage: int, now: datetime) -> None:
    """Points for a completed stage, once per learner, scenario and stage (a new version or a
    repeat earns nothing more). A preview earns nothing."""
    if progress.is_preview:
        return
    incentives.award(incentives.Award(
        event=Event.SCENARIO_STAGE_COMPLETED, user_id=progress.user_id,
        idempotency_key=f"scenario:{progress.scenario.code}:{progress.user_id}:stage:{stage}",
        source_type="scenario_stage", source_id=str(progress.id), occurred_at=now,
        points=_points(progress, "stage"),
        details={"scenario": progress.scenario.code, "stage": stage}), now=now)
    if stage < 3:   # the scenario goes on: in progress in the gradebook
        _tell(progress, "completed", now, progress_only=True, stage=stage)


def _tell(progress: ScenarioProgress, kind: str, now: datetime, **result) -> None:
    """The learning event of a scenario (for the LMS and the LRS)."""
    learning_event.send("scenarios", kind=kind, user_id=progress.user_id,
                        object_type="scenario", object_id=progress.scenario.code,
                        object_name=progress.version.title_zh, at=now,
                        completed=kind == "signed_off", **result)


def _touch(progress: ScenarioProgress, now: datetime) -> None:
    progress.updated_at = now


# --- starting -----------------------------------------------------------------------------

def current_version(scenario: Scenario) -> ScenarioVersion:
    return db.session.scalar(select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == scenario.id,
        ScenarioVersion.version == scenario.current_version))


def start_scenario(user_id: int, code: str, *, now: datetime,
                   preview: bool = False) -> ScenarioProgress:
    """Resume the learner's progress on a scenario, or start it on the newest version. A
    preview starts afresh each time and is kept apart from real progress."""
    scenario = db.session.scalar(select(Scenario).where(Scenario.code == code))
    if scenario is None or not scenario.is_active:
        raise ScenarioError(N_("There is no scenario %(code)s."), code=code)
    if not preview:
        existing = db.session.scalar(
            select(ScenarioProgress).where(ScenarioProgress.user_id == user_id,
                                           ScenarioProgress.scenario_id == scenario.id,
                                           ScenarioProgress.is_preview.is_(False))
            .order_by(ScenarioProgress.id.desc()))
        if existing is not None:
            return existing
    progress = ScenarioProgress(user_id=user_id, scenario_id=scenario.id,
                                version_id=current_version(scenario).id, stage=1,
                                status="in_progress", is_preview=preview, started_at=now,
                                updated_at=now, practice_attempts=0, sent_back_count=0)
    db.session.add(progress)
    db.session.flush()
    return progress


# --- stage 1: case analysis ---------------------------------------------------------------

def submit_case(progress_id: int, marked: dict[str, str], *, actor_id: int,
                now: datetime) -> StageAttempt:
    """Score the lines the learner marked (line id → rule code) against the error key; the
    stage is done and the key is revealed."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 1)
    case = _content(progress)["case_analysis"]
    lines = {line["id"] for line in case["transcript"] if line["speaker"] == "agent"}
    if not marked:
        raise ScenarioError(N_("Mark at least one line where the agent went wrong."))
    for line, rule in marked.items():
        if line not in lines:
            raise ScenarioError(N_("Line %(line)s is not one of the agent's lines in this case."),
                                line=line)
        if rule not in rules.SOP_RULES:
            raise ScenarioError(N_("Pick the rule that line %(line)s breaks."), line=line)
    key = {entry["line"]: list(entry["rules"]) for entry in case["error_key"]}
    result = rules.score_case(marked, key)
    pass_mark = case.get("pass_mark", rules.DEFAULT_CASE_PASS_MARK)
    attempt = _new_attempt(progress, 1, {
        "marked": dict(marked),
        "hits": list(result.hits), "wrong_rule": list(result.wrong_rule),
        "false_alarms": list(result.false_alarms), "missed": list(result.missed),
        "precision": result.precision, "recall": result.recall}, now)
    attempt.score = result.score
    attempt.passed = result.score >= pass_mark
    attempt.finished_at = now
    progress.case_score = result.score
    progress.stage = 2
    _touch(progress, now)
    _award_stage(progress, 1, now)
    return attempt


# --- stage 2: reverse experience ----------------------------------------------------------

def reverse_attempt(progress: ScenarioProgress, *, now: datetime) -> StageAttempt:
    """The learner's walk through the wrong path: the open one, or a new one from the start."""
    attempt = _attempt(progress, 2)
    if attempt is None:
        play = _content(progress)["reverse_experience"]
        attempt = _new_attempt(progress, 2, {"node": play["start"], "path": [],
                                             "ended": False}, now)
    return attempt


def advance_reverse(progress_id: int, choice: int | None, *, actor_id: int,
                    now: datetime) -> StageAttempt:
    """Take a choice (or continue, at a node without choices) on the wrong path."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 2)
    play = _content(progress)["reverse_experience"]
    attempt = reverse_attempt(progress, now=now)
    state = dict(attempt.state)
    if state.get("ended"):
        raise ScenarioError(N_("The role-play has ended; upload your recording."))
    node = play["nodes"][state["node"]]
    if node.get("choices"):
        if choice is None or not 0 <= choice < len(node["choices"]):
            raise ScenarioError(N_("Choose one of the options."))
        target = node["choices"][choice]["next"]
    elif node.get("next") is not None:
        target = node["next"]
    else:
        raise ScenarioError(N_("The role-play has ended; upload your recording."))
    state["path"] = [*state["path"], {"node": state["node"], "choice": choice}]
    state["node"] = target
    state["ended"] = bool(play["nodes"][target].get("end"))
    attempt.state = state
    _touch(progress, now)
    return attempt


def restart_reverse(progress_id: int, *, actor_id: int, now: datetime) -> StageAttempt:
    """Walk the wrong path again from the start (another branch, other consequences)."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 2)
    attempt = _attempt(progress, 2)
    if attempt is not None:
        attempt.finished_at = now
    play = _content(progress)["reverse_experience"]
    return _new_attempt(progress, 2, {"node": play["start"], "path": [], "ended": False}, now)


MIN_REFLECTION = 30


def submit_recording(progress_id: int, stream, filename: str, reflection: str, *,
                     actor_id: int, now: datetime) -> Recording:
    """The learner's re-enactment and reflection: stage 2 is done once the wrong path has
    been walked to an ending."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 2)
    attempt = _attempt(progress, 2)
    if attempt is None or not attempt.state.get("ended"):
        raise ScenarioError(N_("Walk the role-play to its end before uploading."))
    reflection = (reflection or "").strip()
    if len(reflection) < MIN_REFLECTION:
        raise ScenarioError(N_("Write a reflection of at least %(n)s characters."),
                            n=MIN_REFLECTION)
    if stream is None or not filename:
        raise ScenarioError(N_("Choose the recording of your re-enactment."))
    stored, media_type, size = uploads.store_recording(stream, filename)
    recording = Recording(progress_id=progress.id, stored_name=stored,
                          original_name=filename[:200], media_type=media_type,
                          size_bytes=size, reflection=reflection[:5000], uploaded_at=now)
    db.session.add(recording)
    attempt.finished_at = now
    attempt.passed = True
    progress.stage = 3
    _touch(progress, now)
    _award_stage(progress, 2, now)
    db.session.flush()
    mentor = _mentor_of(progress.user_id)
    if mentor is not None and not progress.is_preview:
        notify(mentor.id, N_("%(name)s uploaded a re-enactment of %(code)s to review."),
               params={"name": progress.user.name, "code": progress.scenario.code},
               link=f"/scenarios/recordings/{recording.id}", now=now)
    return recording


def review_recording(recording_id: int, comment: str, *, actor: User,
                     now: datetime) -> Recording:
    recording = db.session.get(Recording, recording_id)
    if recording is None or not may_review(actor, recording.progress.user):
        raise ScenarioError(N_("You may not review this recording."))
    comment = (comment or "").strip()
    if not comment:
        raise ScenarioError(N_("Write a comment for the learner."))
    recording.reviewed_by_id = actor.id
    recording.reviewed_at = now
    recording.review_comment = comment[:5000]
    notify(recording.progress.user_id,
           N_("%(name)s reviewed your re-enactment of %(code)s."),
           params={"name": actor.name, "code": recording.progress.scenario.code},
           link=f"/scenarios/{recording.progress.scenario.code}", now=now)
    return recording


# --- stage 3: positive practice -----------------------------------------------------------

def practice_attempt(progress: ScenarioProgress, *, now: datetime) -> StageAttempt:
    attempt = _attempt(progress, 3)
    if attempt is None:
        play = _content(progress)["positive_practice"]
        attempt = _new_attempt(progress, 3, {"node": play["start"], "steps": [],
                                             "tries": 0, "ended": False, "feedback": None},
                               now)
        progress.practice_attempts = (progress.practice_attempts or 0) + 1
    return attempt


def _step_done(state: dict, node_id: str, kind: str, play: dict, target: str) -> dict:
    state["steps"] = [*state["steps"], {"node": node_id, "kind": kind,
                                        "tries": state["tries"] + 1}]
    state["tries"] = 0
    state["node"] = target
    state["ended"] = bool(play["nodes"][state["node"]].get("end"))
    return state


def choose_practice(progress_id: int, choice: int | None, *, actor_id: int,
                    now: datetime) -> StageAttempt:
    """A choice in the positive practice: the correct one moves forward; a wrong one shows
    why, and the learner tries again."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 3)
    play = _content(progress)["positive_practice"]
    attempt = practice_attempt(progress, now=now)
    state = dict(attempt.state)
    node = play["nodes"][state["node"]]
    if state.get("ended"):
        raise ScenarioError(N_("The practice has ended."))
    if node.get("choices"):
        if choice is None or not 0 <= choice < len(node["choices"]):
            raise ScenarioError(N_("Choose one of the options."))
        picked = node["choices"][choice]
        if picked.get("correct"):
            state = _step_done(state, state["node"], "choice", play, picked["next"])
            state["feedback"] = {"kind": "choice", "ok": True, "node": state["steps"][-1]["node"],
                                 "choice": choice}
        else:
            state["tries"] += 1
            state["feedback"] = {"kind": "choice", "ok": False, "node": state["node"],
                                 "choice": choice}
    elif node.get("next") is not None:
        state["node"] = node["next"]
        state["ended"] = bool(play["nodes"][state["node"]].get("end"))
        state["feedback"] = None
    else:
        raise ScenarioError(N_("Type your reply to the customer."))
    attempt.state = state
    _touch(progress, now)
    if state["ended"]:
        _finish_practice(progress, attempt, now)
    return attempt


def reply_practice(progress_id: int, text: str, *, actor_id: int,
                   now: datetime) -> tuple[StageAttempt, list[sop.ElementResult]]:
    """A typed reply, checked element by element against the service standard."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 3)
    play = _content(progress)["positive_practice"]
    attempt = practice_attempt(progress, now=now)
    state = dict(attempt.state)
    node = play["nodes"][state["node"]]
    if state.get("ended") or not node.get("reply"):
        raise ScenarioError(N_("No reply is asked for here."))
    text = (text or "").strip()
    if not text:
        raise ScenarioError(N_("Type your reply to the customer."))
    results = sop.check_reply(text[:2000], node["reply"]["checks"])
    verdicts = [{"code": r.code, "passed": r.passed, "message": r.message,
                 "params": r.params} for r in results]
    if all(r.passed for r in results):
        node_id = state["node"]
        state = _step_done(state, node_id, "reply", play, node["reply"]["next"])
        state["feedback"] = {"kind": "reply", "ok": True, "node": node_id, "text": text[:2000],
                             "results": verdicts}
    else:
        state["tries"] += 1
        state["feedback"] = {"kind": "reply", "ok": False, "node": state["node"],
                             "text": text[:2000], "results": verdicts}
    attempt.state = state
    _touch(progress, now)
    if state["ended"]:
        _finish_practice(progress, attempt, now)
    return attempt, results


def _finish_practice(progress: ScenarioProgress, attempt: StageAttempt, now: datetime) -> None:
    play = _content(progress)["positive_practice"]
    score = rules.practice_score(attempt.state["steps"])
    attempt.score = score
    attempt.passed = score >= play.get("pass_mark", rules.DEFAULT_PRACTICE_PASS_MARK)
    attempt.finished_at = now
    progress.practice_score = score
    if not attempt.passed:
        return
    progress.status = "awaiting_sign_off"
    _award_stage(progress, 3, now)
    if not progress.is_preview:   # passed; the mentor's sign-off is still to come
        _tell(progress, "completed", now, score=score, pending=True)
    mentor = _mentor_of(progress.user_id)
    if mentor is not None and not progress.is_preview:
        notify(mentor.id, N_("%(name)s passed the positive practice of %(code)s and waits for "
                             "your sign-off."),
               params={"name": progress.user.name, "code": progress.scenario.code},
               link="/scenarios/sign-offs", now=now)


def practise_again(progress_id: int, *, actor_id: int, now: datetime) -> StageAttempt:
    """After a practice below the pass mark: a fresh attempt from the start."""
    progress = _progress_of(progress_id, actor_id)
    _require_stage(progress, 3)
    current = _attempt(progress, 3)
    if current is not None:
        current.finished_at = current.finished_at or now
    return practice_attempt(progress, now=now)


# --- sign-off -----------------------------------------------------------------------------

def _mentor_of(user_id: int) -> User | None:
    return db.session.scalar(
        select(User).join(Mentorship, Mentorship.mentor_id == User.id)
        .where(Mentorship.apprentice_id == user_id, Mentorship.ended_on.is_(None)))


def may_sign_off(actor: User, apprentice: User) -> bool:
    """The apprentice's mentor signs off; a trainer may when the apprentice has no mentor."""
    mentor = _mentor_of(apprentice.id)
    if mentor is not None:
        return mentor.id == actor.id
    return actor.can(Permission.MANAGE_TRAINING) and actor.id != apprentice.id


def may_review(actor: User, learner: User) -> bool:
    """A re-enactment is reviewed by the learner's mentor or a trainer."""
    if actor.id == learner.id:
        return False
    mentor = _mentor_of(learner.id)
    return (mentor is not None and mentor.id == actor.id) or actor.can(
        Permission.MANAGE_TRAINING)


def may_see_learner(actor: User, learner: User) -> bool:
    """Oneself, one's apprentices, one's team, or a role that sees every agent."""
    if actor.id == learner.id or actor.can(Permission.VIEW_ALL_AGENTS):
        return True
    if actor.can(Permission.VIEW_TEAM) and learner.team_id in led_team_ids(actor.id):
        return True
    mentor = _mentor_of(learner.id)
    return mentor is not None and mentor.id == actor.id


def decide_sign_off(progress_id: int, decision: str, rubric: dict[str, int], comment: str, *,
                    actor: User, now: datetime) -> SignOff:
    """The mentor observed a live practice: sign it off (the scenario is complete, points to
    both) or send it back with feedback (the apprentice practises again)."""
    progress = db.session.get(ScenarioProgress, progress_id)
    if progress is None or progress.is_preview or not may_sign_off(actor, progress.user):
        raise ScenarioError(N_("You may not sign off this practice."))
    if progress.status != "awaiting_sign_off":
        raise ScenarioError(N_("This practice is not waiting for a sign-off."))
    if decision not in ("signed_off", "sent_back"):
        raise ScenarioError(N_("Sign off or send back."))
    if set(rubric) != set(rules.RUBRIC) or any(
            not isinstance(v, int) or not rules.RUBRIC_MIN <= v <= rules.RUBRIC_MAX
            for v in rubric.values()):
        raise ScenarioError(N_("Score every line of the rubric from %(low)s to %(high)s."),
                            low=rules.RUBRIC_MIN, high=rules.RUBRIC_MAX)
    comment = (comment or "").strip()
    if decision == "sent_back" and not comment:
        raise ScenarioError(N_("Say what to practise when you send it back."))
    sign_off = SignOff(progress_id=progress.id, mentor_id=actor.id, decision=decision,
                       rubric=dict(rubric), comment=comment[:5000], decided_at=now)
    db.session.add(sign_off)
    db.session.flush()
    code = progress.scenario.code
    if decision == "sent_back":
        progress.status = "in_progress"
        progress.stage = 3
        progress.sent_back_count = (progress.sent_back_count or 0) + 1
        notify(progress.user_id, N_("%(name)s sent %(code)s back: %(comment)s"),
               params={"name": actor.name, "code": code, "comment": comment[:200]},
               link=f"/scenarios/{code}", now=now)
    else:
        progress.status = "completed"
        progress.completed_at = now
        incentives.award(incentives.Award(
            event=Event.SIGN_OFF_RECEIVED, user_id=progress.user_id,
            idempotency_key=f"scenario:{code}:{progress.user_id}:sign_off",
            source_type="sign_off", source_id=str(sign_off.id), occurred_at=now,
            awarded_by_id=actor.id, points=_points(progress, "sign_off"),
            details={"scenario": code}), now=now)
        incentives.award(incentives.Award(
            event=Event.SIGN_OFF_GIVEN, user_id=actor.id,
            idempotency_key=f"scenario:{code}:{progress.user_id}:sign_off_given",
            source_type="sign_off", source_id=str(sign_off.id), occurred_at=now,
            details={"scenario": code, "apprentice": progress.user_id}), now=now)
        training.complete_assignments(progress.user_id, "scenario", code, now=now)
        _tell(progress, "signed_off", now, score=float(progress.practice_score or 100))
        notify(progress.user_id, N_("%(name)s signed off your practice of %(code)s."),
               params={"name": actor.name, "code": code}, link=f"/scenarios/{code}", now=now)
    _touch(progress, now)
    record_audit(f"scenario.{decision}", actor_id=actor.id, now=now,
                 subject_id=progress.user_id, target_type="scenario_progress",
                 target_id=progress.id, details={"scenario": code, "rubric": dict(rubric)})
    return sign_off


# --- assigning ----------------------------------------------------------------------------

def may_assign(actor: User, agent: User) -> bool:
    """A team lead assigns to their team; a trainer or admin to anyone."""
    if actor.can(Permission.MANAGE_TRAINING):
        return True
    return actor.can(Permission.VIEW_TEAM) and agent.team_id in led_team_ids(actor.id)


def assign_scenario(agent_id: int, code: str, *, due_on: date | None, reason: str,
                    actor: User, now: datetime) -> Assignment:
    agent = db.session.get(User, agent_id)
    if agent is None or not agent.is_active or not may_assign(actor, agent):
        raise ScenarioError(N_("You may not assign training to this person."))
    scenario = db.session.scalar(select(Scenario).where(Scenario.code == code))
    if scenario is None or not scenario.is_active:
        raise ScenarioError(N_("There is no scenario %(code)s."), code=code)
    if due_on is not None and due_on < now.date():
        raise ScenarioError(N_("The due date is in the past."))
    version = current_version(scenario)
    title = version.title_zh if (agent.locale or "zh_Hans").startswith("zh") else \
        version.title_en
    assignment = training.assign_item(
        agent.id, item_kind="scenario", item_code=code, title=f"{code} {title}",
        source_type="manual", source_id=f"{actor.id}:{now.isoformat(timespec='seconds')}",
        reason=reason.strip()[:500], due_on=due_on, link=f"/scenarios/{code}",
        actor_id=actor.id, now=now)
    record_audit("scenario.assigned", actor_id=actor.id, now=now, subject_id=agent.id,
                 target_type="assignment", target_id=assignment.id,
                 details={"scenario": code, "due_on": due_on.isoformat() if due_on else None})
    return assignment
