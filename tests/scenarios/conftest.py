"""The training room's fixtures: the shipped library imported, recordings kept in a temporary
folder, a mentor with an apprentice, and helpers that play a stage the way a learner would."""
from __future__ import annotations

import io
from datetime import date

import pytest

from app.auth.roles import CareerLevel, Role
from app.auth.services import assign_mentor
from app.incentives.services import install_defaults
from app.scenarios import importers, services

# the first bytes of real media files, as `filetype` recognises them
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4000
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\x00" * 4000


@pytest.fixture()
def recordings_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SCENARIO_UPLOAD_DIR", str(tmp_path / "recordings"))
    return tmp_path / "recordings"


@pytest.fixture()
def library(db, now, recordings_dir):
    """The ten shipped scenarios, imported; the incentive rules installed."""
    install_defaults(now=now)
    plan = importers.plan_import(importers.files_in(importers.shipped_library()),
                                 media_dir=importers.shipped_library())
    assert not plan.errors, plan.errors[:3]
    importers.apply_import(plan, actor_id=None, now=now)
    db.session.commit()
    return plan


@pytest.fixture()
def pair(make_user, make_team, now, db):
    """A team with its lead, a mentor and the mentor's apprentice."""
    lead = make_user(Role.TEAM_LEAD, Role.AGENT, name="Lead Li")
    team = make_team("Scenario team", lead=lead)
    mentor = make_user(Role.AGENT, Role.MENTOR, team=team, name="Mentor Ma",
                       level=CareerLevel.SENIOR_AGENT.value)
    apprentice = make_user(Role.AGENT, team=team, name="Apprentice An",
                           hire_date=date(2026, 2, 1))
    assign_mentor(apprentice.id, mentor.id, started_on=date(2026, 2, 1), actor_id=None,
                  now=now)
    db.session.commit()
    return {"lead": lead, "team": team, "mentor": mentor, "apprentice": apprentice}


def key_marks(doc: dict) -> dict[str, str]:
    """The error key's lines, each with its first accepted rule: a perfect analysis."""
    return {entry["line"]: entry["rules"][0] for entry in doc["case_analysis"]["error_key"]}


def walk_reverse(progress, actor_id: int, now, choice: int = 0):
    """Take `choice` (else the first) at every node until the wrong path ends."""
    attempt = services.reverse_attempt(progress, now=now)
    for _ in range(100):
        if attempt.state["ended"]:
            return attempt
        node = progress.version.content["reverse_experience"]["nodes"][attempt.state["node"]]
        pick = min(choice, len(node["choices"]) - 1) if node.get("choices") else None
        attempt = services.advance_reverse(progress.id, pick, actor_id=actor_id, now=now)
    raise AssertionError("the reverse experience never ended")


def upload(progress, actor_id: int, now, data: bytes = MP4, name: str = "me.mp4"):
    return services.submit_recording(
        progress.id, io.BytesIO(data), name,
        "I saw how quickly the customer's anger grew when I refused to own the problem.",
        actor_id=actor_id, now=now)


def play_practice(progress, actor_id: int, now, lang: str = "en", mistakes: int = 0):
    """Answer the positive practice: the correct choice and the model reply, after
    `mistakes` wrong choices at the first choice nodes."""
    play = progress.version.content["positive_practice"]
    attempt = services.practice_attempt(progress, now=now)
    left = mistakes
    for _ in range(200):
        if attempt.finished_at:
            return attempt
        node = play["nodes"][attempt.state["node"]]
        if node.get("reply"):
            attempt, _results = services.reply_practice(
                progress.id, node["reply"]["model"][lang], actor_id=actor_id, now=now)
        elif node.get("choices"):
            wrong = [i for i, c in enumerate(node["choices"]) if not c.get("correct")]
            if left and wrong:
                left -= 1
                attempt = services.choose_practice(progress.id, wrong[0], actor_id=actor_id,
                                                   now=now)
            right = next(i for i, c in enumerate(node["choices"]) if c.get("correct"))
            attempt = services.choose_practice(progress.id, right, actor_id=actor_id, now=now)
        else:
            attempt = services.choose_practice(progress.id, None, actor_id=actor_id, now=now)
    raise AssertionError("the positive practice never ended")
