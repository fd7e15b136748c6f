"""The demo centre's training room: the ten shipped scenarios imported, apprentices at every
stage (a practice waiting for each mentor's sign-off, one sent back and then signed off, a
failed practice being repeated, re-enactments to review), established agents with completed
scenarios, and scenarios assigned by the team leads — one of them overdue. Everything goes
through the training room's services, as a learner's clicks would."""
from __future__ import annotations

import io
import math
import struct
import wave
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.auth.models import Team, User
from app.auth.queries import mentors_of
from app.auth.roles import Role
from app.database import db
from app.scenarios import importers, services
from app.scenarios.models import ScenarioProgress

RUBRIC_GOOD = {"opening": 4, "empathy": 4, "standard": 5, "resolution": 4}
RUBRIC_WEAK = {"opening": 3, "empathy": 2, "standard": 3, "resolution": 3}
REFLECTIONS = [
    "演完才体会到，客户每一次被推回来，情绪都会更激动。以后先安抚、先记录，再说明原因。",
    "Playing the wrong side showed me how fast a brush-off turns into a complaint. I will own "
    "the call, record it and follow up myself.",
    "重演时我发现自己习惯说“不可以”，换位思考后，应该先表示理解，再给出能做到的办法。",
]


def _tone(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A short spoken-band tone as a real WAV file: the stand-in for a re-enactment."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                          for n in range(int(seconds * rate)))
        wav.writeframes(frames)
    return out.getvalue()


def _key(doc: dict, misses: int = 0) -> dict[str, str]:
    """An analysis that finds the key's lines but `misses` of them."""
    entries = doc["case_analysis"]["error_key"]
    return {e["line"]: e["rules"][0] for e in entries[: max(1, len(entries) - misses)]}


def _walk(progress: ScenarioProgress, user_id: int, at: datetime, steps: int = 100) -> None:
    attempt = services.reverse_attempt(progress, now=at)
    nodes = progress.version.content["reverse_experience"]["nodes"]
    for _ in range(steps):
        if attempt.state["ended"]:
            return
        node = nodes[attempt.state["node"]]
        attempt = services.advance_reverse(progress.id, 0 if node.get("choices") else None,
                                           actor_id=user_id, now=at)


def _practise(progress: ScenarioProgress, user_id: int, at: datetime, lang: str,
              mistakes: int = 0) -> None:
    """The positive practice with the model replies, after `mistakes` wrong choices."""
    play = progress.version.content["positive_practice"]
    attempt = services.practice_attempt(progress, now=at)
    for _ in range(200):
        if attempt.finished_at:
            return
        node = play["nodes"][attempt.state["node"]]
        if node.get("reply"):
            attempt, _ = services.reply_practice(progress.id, node["reply"]["model"][lang],
                                                 actor_id=user_id, now=at)
            continue
        if node.get("choices"):
            if mistakes:
                wrong = [i for i, c in enumerate(node["choices"]) if not c.get("correct")]
                if wrong:
                    mistakes -= 1
                    services.choose_practice(progress.id, wrong[0], actor_id=user_id, now=at)
            pick = next(i for i, c in enumerate(node["choices"]) if c.get("correct"))
        else:
            pick = None
        attempt = services.choose_practice(progress.id, pick, actor_id=user_id, now=at)


def _run(user: User, code: str, target: str, at: datetime, *, signer: User | None,
         lang: str, index: int) -> None:
    """Take one learner to `target`: "stage1", "stage2", "stage2_ended", "stage3",
    "failed", "awaiting", "sent_back", "completed"."""
    progress = services.start_scenario(user.id, code, now=at)
    if target == "stage1":
        return
    doc = progress.version.content
    services.submit_case(progress.id, _key(doc, misses=index % 2), actor_id=user.id,
                         now=at + timedelta(minutes=20))
    if target == "stage2":
        _walk(progress, user.id, at + timedelta(minutes=30), steps=3)
        return
    _walk(progress, user.id, at + timedelta(minutes=30))
    if target == "stage2_ended":
        return
    services.submit_recording(progress.id, io.BytesIO(_tone()), f"{code}-re-enactment.wav",
                              REFLECTIONS[index % len(REFLECTIONS)], actor_id=user.id,
                              now=at + timedelta(hours=1))
    if target == "stage3":
        return
    later = at + timedelta(days=1)
    if target == "failed":
        _practise(progress, user.id, later, lang, mistakes=4)
        return
    _practise(progress, user.id, later, lang, mistakes=1)
    if target == "awaiting" or signer is None:
        return
    if target in ("sent_back", "completed"):
        services.decide_sign_off(progress.id, "sent_back", RUBRIC_WEAK,
                                 "共情要放在道歉之前，语速再放慢一些，明天我们再练一次。",
                                 actor=signer, now=later + timedelta(hours=3))
    if target == "completed":
        _practise(progress, user.id, later + timedelta(days=1), lang)
        services.decide_sign_off(progress.id, "signed_off", RUBRIC_GOOD,
                                 "现场演练规范到位，签核通过。", actor=signer,
                                 now=later + timedelta(days=1, hours=2))


# per apprentice, in employee-number order: (scenario, how far)
APPRENTICE_PLANS = [
    [("S01", "awaiting"), ("S07", "completed"), ("S03", "stage2")],
    [("S05", "awaiting"), ("S02", "failed"), ("S08", "stage1")],
    [("S07", "sent_back"), ("S04", "stage2_ended")],
    [("S09", "completed"), ("S06", "stage3")],
]
ESTABLISHED_PLANS = [("S07", "completed"), ("S05", "completed"), ("S10", "awaiting"),
                     ("S03", "stage3"), ("S01", "completed"), ("S09", "stage2")]


def load_scenarios(today: date, now: datetime, progress) -> dict:
    """Import the library, then the learners' progress. Runs once."""
    created = {"scenarios": 0, "scenario_runs": 0, "scenario_assignments": 0}
    trainer = db.session.scalar(select(User).where(User.employee_number == "8001"))
    plan = importers.plan_import(importers.files_in(importers.shipped_library()),
                                 media_dir=importers.shipped_library())
    if plan.errors:
        raise RuntimeError(f"the shipped scenarios do not validate: {plan.errors[:3]}")
    counts = importers.apply_import(plan, actor_id=trainer.id if trainer else None, now=now)
    created["scenarios"] = counts["new"] + counts["new_version"]
    progress(1)
    if db.session.scalar(select(func.count(ScenarioProgress.id))):
        return created
    agents = list(db.session.scalars(
        select(User).where(User.is_active.is_(True), User.role_links.any(role=Role.AGENT.value))
        .order_by(User.employee_number)))
    mentors = mentors_of(a.id for a in agents)
    apprentices = [a for a in agents if a.id in mentors]
    start = now - timedelta(days=12)
    for index, apprentice in enumerate(apprentices):
        for step, (code, target) in enumerate(APPRENTICE_PLANS[index % len(APPRENTICE_PLANS)]):
            _run(apprentice, code, target, start + timedelta(days=step, hours=index),
                 signer=mentors[apprentice.id], lang="zh" if index % 3 else "en", index=index)
            created["scenario_runs"] += 1
    progress(1)
    # established agents (no mentor): a trainer signs off their practice
    established = [a for a in agents if a.id not in mentors and not a.has_role(Role.MENTOR)
                   and not a.has_role(Role.TEAM_LEAD) and a.hire_date < today - timedelta(days=90)]
    for index, agent in enumerate(established[::2]):
        code, target = ESTABLISHED_PLANS[index % len(ESTABLISHED_PLANS)]
        _run(agent, code, target, start + timedelta(hours=3 * index), signer=trainer,
             lang="en" if agent.name.isascii() else "zh", index=index)
        created["scenario_runs"] += 1
    progress(1)
    created["scenario_assignments"] = _assignments(agents, today, now)
    progress(1)
    return created


def _assignments(agents: list[User], today: date, now: datetime) -> int:
    """Each team lead assigns a scenario to two of their agents: one overdue, one due soon."""
    done = 0
    for team in db.session.scalars(select(Team).order_by(Team.name)):
        lead = team.lead
        members = [a for a in agents if a.team_id == team.id and a.id != (lead.id if lead
                                                                          else None)]
        if lead is None or len(members) < 6:
            continue
        for agent, code, days, reason in (
                (members[5], "S08", -3, "本月两次转接投诉，请完成“不是我们部门”场景。"),
                (members[-3], "S10", 7, "Follow-up promises: practise the call-back scenario.")):
            assigned = now - timedelta(days=10) if days < 0 else now - timedelta(days=1)
            services.assign_scenario(agent.id, code, due_on=today + timedelta(days=days),
                                     reason=reason, actor=lead, now=assigned)
            done += 1
    return done
