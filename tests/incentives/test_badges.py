"""Badges: granting by hand (roles, scope, caps, never oneself), automatic thresholds per month
and ever, idempotent checks, withdrawal, badge classes and images, the level ladder — through
the services, then through the pages."""
from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.database import utcnow
from app.extensions import db as db_
from app.incentives import badges
from app.incentives.badges import (
    BadgeError,
    BadgeValues,
    LevelError,
    check_automatic_badges,
    grant_badge,
    revoke_award,
)
from app.incentives.ledger import Award, award, confirm_entry, earned_total, reverse_entry
from app.incentives.models import BadgeAward, BadgeClass, Level, PointEntry
from app.incentives.queries import list_levels
from app.incentives.services import award_batch
from app.notifications.models import Notification

LAST_MONTH = datetime(2026, 2, 10, 4, 0, tzinfo=timezone.utc)


def _badge(db, code: str) -> BadgeClass:
    return db.session.scalar(select(BadgeClass).where(BadgeClass.code == code))


def _awards(db, user_id: int, code: str | None = None) -> list[BadgeAward]:
    query = select(BadgeAward).where(BadgeAward.user_id == user_id).order_by(BadgeAward.id)
    if code:
        query = query.join(BadgeClass).where(BadgeClass.code == code)
    return list(db.session.scalars(query))


def _qa(agent, n: int, score: float, *, now, occurred_at=None):
    """QA evaluations straight through the ledger (no automatic check on the way)."""
    for i in range(n):
        award(Award("qa.evaluation", agent.id, f"qa:{agent.id}:{score}:{occurred_at}:{i}",
                    "qa_evaluation", f"QA-{i}", score=score, occurred_at=occurred_at), now=now)


def png_bytes(width: int = 128, height: int = 128) -> bytes:
    """A small valid RGB PNG, written with the standard library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture()
def team(make_user, make_team):
    lead = make_user("team_lead", name="Lead Li")
    blue = make_team("Blue", lead=lead)
    agent = make_user("agent", team=blue, name="Wang Fang", email="wang.fang@example.cn")
    return {"lead": lead, "team": blue, "agent": agent}


# --- granting by hand --------------------------------------------------------------------

def test_a_team_lead_grants_a_manual_badge_with_points_notice_and_audit(db, defaults, team,
                                                                         now):
    smile = _badge(db, "smile_star")
    row = grant_badge(smile.id, team["agent"].id, team["lead"].id, "Smiled through a storm",
                      now)
    db.session.commit()
    assert row.uid and row.period == "2026-03" and row.granted_by_id == team["lead"].id
    entry = db.session.get(PointEntry, row.point_entry_id)
    assert (entry.event, entry.points, entry.blade) == ("badge.earned", 30, "honour")
    assert entry.idempotency_key == f"badge:{row.uid}"
    assert (entry.source_type, entry.source_id) == ("badge_award", str(row.id))
    assert earned_total(team["agent"].id) == 30
    note = db.session.scalar(select(Notification).where(
        Notification.user_id == team["agent"].id))
    assert note.params == {"badge_en": "Smile Star", "badge_zh": "微笑之星"}
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "badge.grant"))
    assert (audit.actor_id, audit.subject_id) == (team["lead"].id, team["agent"].id)


def test_nobody_grants_a_badge_to_themselves(db, defaults, make_user, now):
    trainer = make_user("trainer", "agent")
    with pytest.raises(BadgeError, match="yourself"):
        grant_badge(_badge(db, "smile_star").id, trainer.id, trainer.id, "Me!", now)


def test_only_the_roles_the_badge_names_may_grant_it(db, defaults, team, make_user, now):
    smile = _badge(db, "smile_star")
    for role in ("qa_analyst", "mentor", "agent", "admin"):
        other = make_user(role)
        with pytest.raises(BadgeError, match="role may not"):
            grant_badge(smile.id, team["agent"].id, other.id, "Nice", now)
    trainer = make_user("trainer")
    assert grant_badge(smile.id, team["agent"].id, trainer.id, "Nice", now)


def test_a_team_lead_grants_only_to_agents_of_the_teams_they_lead(db, defaults, team,
                                                                  make_user, now):
    outsider = make_user("agent")
    with pytest.raises(BadgeError, match="teams you lead"):
        grant_badge(_badge(db, "smile_star").id, outsider.id, team["lead"].id, "Nice", now)


def test_badges_go_to_active_agents(db, defaults, team, make_user, now):
    mentor = make_user("mentor", team=team["team"])
    with pytest.raises(BadgeError, match="active agents"):
        grant_badge(_badge(db, "smile_star").id, mentor.id, team["lead"].id, "Nice", now)


def test_the_monthly_cap_per_granter(db, defaults, team, make_user, now):
    smile, patience = _badge(db, "smile_star"), _badge(db, "patience_award")
    for _ in range(2):
        grant_badge(smile.id, team["agent"].id, team["lead"].id, "Again", now)
    with pytest.raises(BadgeError, match="2 times this month"):
        grant_badge(smile.id, team["agent"].id, team["lead"].id, "Once more", now)
    # another badge, another granter and next month each have their own count
    assert grant_badge(patience.id, team["agent"].id, team["lead"].id, "Calm", now)
    assert grant_badge(smile.id, team["agent"].id, make_user("trainer").id, "Yes", now)
    next_month = now + timedelta(days=20)
    assert grant_badge(smile.id, team["agent"].id, team["lead"].id, "April", next_month)


def test_a_withdrawn_grant_frees_its_place_under_the_cap(db, defaults, team, make_user, now):
    smile = _badge(db, "smile_star")
    rows = [grant_badge(smile.id, team["agent"].id, team["lead"].id, "x", now) for _ in "ab"]
    revoke_award(rows[0].id, reason="Mistake", actor_id=make_user("admin").id, now=now)
    assert grant_badge(smile.id, team["agent"].id, team["lead"].id, "y", now)


def test_an_automatic_badge_cannot_be_granted(db, defaults, team, make_user, now):
    with pytest.raises(BadgeError, match="automatically"):
        grant_badge(_badge(db, "qa_excellence").id, team["agent"].id, make_user("trainer").id,
                    "Good", now)


def test_a_switched_off_badge_cannot_be_granted(db, defaults, team, now):
    smile = _badge(db, "smile_star")
    smile.is_active = False
    with pytest.raises(BadgeError, match="switched off"):
        grant_badge(smile.id, team["agent"].id, team["lead"].id, "Good", now)


def test_a_grant_needs_a_comment(db, defaults, team, now):
    with pytest.raises(BadgeError, match="what the badge is for"):
        grant_badge(_badge(db, "smile_star").id, team["agent"].id, team["lead"].id, "  ", now)


def test_the_same_form_sent_twice_grants_once(db, defaults, team, now):
    smile = _badge(db, "smile_star")
    token = "0123456789abcdef0123456789abcdef"
    first = grant_badge(smile.id, team["agent"].id, team["lead"].id, "Hi", now, token=token)
    again = grant_badge(smile.id, team["agent"].id, team["lead"].id, "Hi", now, token=token)
    assert first.id == again.id and first.uid == token
    assert len(_awards(db, team["agent"].id)) == 1 and earned_total(team["agent"].id) == 30


def test_a_badge_worth_no_points_writes_no_entry(db, defaults, team, now):
    smile = _badge(db, "smile_star")
    smile.points = 0
    row = grant_badge(smile.id, team["agent"].id, team["lead"].id, "Hi", now)
    assert row.point_entry_id is None and earned_total(team["agent"].id) == 0


# --- automatic badges --------------------------------------------------------------------

def test_ten_qa_evaluations_of_95_or_more_in_a_month_earn_qa_excellence(db, defaults, team,
                                                                        now):
    agent = team["agent"]
    _qa(agent, 9, 96, now=now)
    _qa(agent, 5, 94, now=now)            # below the floor: not counted
    assert check_automatic_badges(agent.id, "qa.evaluation", now=now) == []
    _qa(agent, 1, 95, now=now)
    earned = check_automatic_badges(agent.id, "qa.evaluation", now=now)
    assert [(a.badge.code, a.window, a.granted_by_id) for a in earned] == [
        ("qa_excellence", "2026-03", None)]
    entry = db.session.get(PointEntry, earned[0].point_entry_id)
    assert (entry.event, entry.points, entry.details["badge"]) == ("badge.earned", 50,
                                                                   "qa_excellence")


def test_automatic_checks_are_idempotent_per_window(db, defaults, team, now):
    agent = team["agent"]
    _qa(agent, 10, 98, now=now)
    assert len(check_automatic_badges(agent.id, "qa.evaluation", now=now)) == 1
    _qa(agent, 10, 99, now=now + timedelta(minutes=1))
    for _ in range(3):
        assert check_automatic_badges(agent.id, "qa.evaluation", now=now) == []
    assert len(_awards(db, agent.id, "qa_excellence")) == 1
    assert db.session.scalar(select(func.count()).select_from(PointEntry).where(
        PointEntry.event == "badge.earned")) == 1


def test_a_monthly_badge_is_earned_again_in_another_month(db, defaults, team, now):
    agent = team["agent"]
    _qa(agent, 10, 97, now=now, occurred_at=LAST_MONTH)
    _qa(agent, 10, 97, now=now)
    earned = check_automatic_badges(agent.id, "qa.evaluation", now=now)
    assert sorted(a.window for a in earned) == ["2026-02", "2026-03"]
    assert check_automatic_badges(agent.id, "qa.evaluation", now=now) == []


def test_old_months_are_not_awarded_after_the_fact(db, defaults, team, now):
    """Only this month, the last, and months of entries recorded now are checked: a badge
    class created later does not shower awards for long-past months."""
    agent = team["agent"]
    december = datetime(2025, 12, 10, tzinfo=timezone.utc)
    _qa(agent, 10, 97, now=december)
    assert check_automatic_badges(agent.id, "qa.evaluation", now=now) == []
    # an import that backfills December now is checked for December
    backfill = now + timedelta(hours=1)
    _qa(agent, 1, 97, now=backfill, occurred_at=december)
    assert [a.window for a in check_automatic_badges(agent.id, "qa.evaluation",
                                                     now=backfill)] == ["2025-12"]


def test_an_ever_badge_is_earned_once(db, defaults, team, now):
    agent = team["agent"]
    award(Award("sign_off.received", agent.id, "so:1", "sign_off", "1"), now=now)
    first = check_automatic_badges(agent.id, "sign_off.received", now=now)
    assert [(a.badge.code, a.window) for a in first] == [("first_sign_off", "")]
    award(Award("sign_off.received", agent.id, "so:2", "sign_off", "2"),
          now=now + timedelta(days=40))
    assert check_automatic_badges(agent.id, "sign_off.received",
                                  now=now + timedelta(days=40)) == []


def test_reversed_entries_do_not_count(db, defaults, team, now):
    agent = team["agent"]
    _qa(agent, 10, 97, now=now)
    some = db.session.scalars(select(PointEntry).where(PointEntry.user_id == agent.id)).first()
    reverse_entry(some.id, reason="Wrong agent", actor_id=None, now=now)
    assert check_automatic_badges(agent.id, "qa.evaluation", now=now) == []


def test_pending_praise_counts_once_confirmed(db, defaults, team, now):
    agent = team["agent"]
    entries = [award(Award("customer_praise.verified", agent.id, f"p{i}", "praise", str(i),
                           pending=True), now=now).entry for i in range(5)]
    assert check_automatic_badges(agent.id, "customer_praise.verified", now=now) == []
    for entry in entries:
        confirm_entry(entry.id, now=now)
    earned = check_automatic_badges(agent.id, "customer_praise.verified", now=now)
    assert [a.badge.code for a in earned] == ["praised_five"]


def test_an_event_no_badge_watches_changes_nothing(db, defaults, team, now):
    award(Award("quiz.passed", team["agent"].id, "q1", "quiz_attempt", attempt=1), now=now)
    assert check_automatic_badges(team["agent"].id, "quiz.passed", now=now) == []


def test_a_badge_worth_more_than_its_rule_allows_is_awarded_without_points(db, defaults, team,
                                                                           now):
    _badge(db, "first_sign_off").points = 5000
    award(Award("sign_off.received", team["agent"].id, "so:1", "sign_off", "1"), now=now)
    earned = check_automatic_badges(team["agent"].id, "sign_off.received", now=now)
    assert len(earned) == 1 and earned[0].point_entry_id is None


# --- withdrawing -------------------------------------------------------------------------

def test_withdrawing_reverses_the_points_and_the_window_stays_closed(db, defaults, team,
                                                                      make_user, now):
    agent, admin = team["agent"], make_user("admin")
    _qa(agent, 10, 97, now=now)
    [row] = check_automatic_badges(agent.id, "qa.evaluation", now=now)
    before = earned_total(agent.id)
    revoke_award(row.id, reason="Scores were corrected", actor_id=admin.id, now=now)
    db.session.commit()
    assert row.revoked_at == now
    assert earned_total(agent.id) == before - 50
    reversal = db.session.scalar(select(PointEntry).where(
        PointEntry.reverses_id == row.point_entry_id))
    assert reversal.points == -50 and reversal.comment == "Scores were corrected"
    assert check_automatic_badges(agent.id, "qa.evaluation", now=now) == []
    with pytest.raises(BadgeError, match="already withdrawn"):
        revoke_award(row.id, reason="Again", actor_id=admin.id, now=now)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "badge.revoke"))


def test_withdrawing_needs_a_reason(db, defaults, team, now):
    row = grant_badge(_badge(db, "smile_star").id, team["agent"].id, team["lead"].id, "x", now)
    with pytest.raises(BadgeError, match="reason"):
        revoke_award(row.id, reason=" ", actor_id=team["lead"].id, now=now)


# --- badge classes and images ------------------------------------------------------------

def _values(**changes) -> BadgeValues:
    base = {"name_en": "Night Owl", "name_zh": "夜猫子", "description_en": "Five night shifts.",
            "description_zh": "五个夜班。", "blade": "honour", "kind": "manual", "points": 20,
            "granter_roles": ("trainer",), "monthly_cap_per_granter": 3}
    return BadgeValues(**{**base, **changes})


@pytest.fixture()
def instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


def test_a_badge_class_with_an_uploaded_image(db, instance, now):
    badge = badges.create_badge_class("night_owl", _values(), image=png_bytes(), actor_id=None,
                                      now=now)
    assert badge.image.startswith("upload/night_owl-")
    assert badges.image_path(badge) == instance / "badges" / badge.image[len("upload/"):]
    assert badges.image_path(badge).read_bytes() == png_bytes()
    assert db.session.scalar(select(AuditEvent.action)) == "badge_class.create"


def test_shipped_badges_have_their_images(db, defaults):
    for badge in badges.list_badge_classes():
        path = badges.image_path(badge)
        assert path is not None and badges.check_png(path.read_bytes()) == (256, 256)


@pytest.mark.parametrize("data, message", [
    (b"GIF89a" + b"\x00" * 100, "must be a PNG"),
    (png_bytes()[:60], "not a valid PNG"),
    (png_bytes(32, 32), "between 64 and 1024"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (512 * 1024), "larger than 512 KB"),
])
def test_only_sound_png_images_within_limits_are_accepted(db, instance, now, data, message):
    with pytest.raises(BadgeError, match=message):
        badges.create_badge_class("night_owl", _values(), image=data, actor_id=None, now=now)


@pytest.mark.parametrize("changes, message", [
    ({"name_zh": " "}, "both languages"),
    ({"kind": "manual", "granter_roles": ()}, "who may grant"),
    ({"kind": "manual", "granter_roles": ("agent",)}, "who may grant"),
    ({"kind": "automatic", "criteria_event": "nope", "criteria_count": 3,
      "criteria_window": "month"}, "event an automatic badge counts"),
    ({"kind": "automatic", "criteria_event": "badge.earned", "criteria_count": 3,
      "criteria_window": "month"}, "event an automatic badge counts"),
    ({"kind": "automatic", "criteria_event": "qa.evaluation", "criteria_count": 0,
      "criteria_window": "month"}, "how many"),
    ({"kind": "automatic", "criteria_event": "qa.evaluation", "criteria_count": 3,
      "criteria_window": "week"}, "within a month or ever"),
    ({"points": 1001}, "between 0 and 1000"),
    ({"blade": "fun"}, "eight blades"),
])
def test_a_badge_class_that_cannot_work_is_refused(db, instance, now, changes, message):
    with pytest.raises(BadgeError, match=message):
        badges.create_badge_class("night_owl", _values(**changes), image=png_bytes(),
                                  actor_id=None, now=now)


def test_codes_are_unique_and_tidy(db, defaults, instance, now):
    with pytest.raises(BadgeError, match="already has the code"):
        badges.create_badge_class("smile_star", _values(), image=png_bytes(), actor_id=None,
                                  now=now)
    with pytest.raises(BadgeError, match="small letters"):
        badges.create_badge_class("Night Owl!", _values(), image=png_bytes(), actor_id=None,
                                  now=now)


def test_editing_a_badge_class_keeps_its_code_and_counts_new_criteria(db, defaults, instance,
                                                                      team, now):
    badge = _badge(db, "qa_excellence")
    values = _values(name_en="QA Star", kind="automatic", criteria_event="qa.evaluation",
                     criteria_count=2, criteria_min_score=90, criteria_window="month", points=5)
    assert badges.update_badge_class(badge.id, values, image=None, actor_id=None, now=now)
    assert badge.code == "qa_excellence" and badge.criteria == {
        "event": "qa.evaluation", "count": 2, "window": "month", "min_score": 90}
    assert badge.granter_roles == [] and badge.monthly_cap_per_granter is None
    assert not badges.update_badge_class(badge.id, values, image=None, actor_id=None, now=now)
    _qa(team["agent"], 2, 91, now=now)
    assert len(check_automatic_badges(team["agent"].id, "qa.evaluation", now=now)) == 1


# --- the level ladder --------------------------------------------------------------------

def test_levels_are_added_changed_and_removed(db, defaults, now):
    level = badges.create_level(min_points=400, name_en="Steady", name_zh="稳健", actor_id=None,
                                now=now)
    assert badges.update_level(level.id, min_points=450, name_en="Steady", name_zh="稳健",
                               actor_id=None, now=now)
    assert 450 in [lv.min_points for lv in list_levels()]
    badges.delete_level(level.id, actor_id=None, now=now)
    assert 450 not in [lv.min_points for lv in list_levels()]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"level.create", "level.update", "level.delete"} <= actions


def test_two_levels_never_start_at_the_same_points(db, defaults, now):
    with pytest.raises(LevelError, match="already starts at 200"):
        badges.create_level(min_points=200, name_en="X", name_zh="X", actor_id=None, now=now)
    level = db.session.scalar(select(Level).where(Level.min_points == 600))
    with pytest.raises(LevelError, match="already starts at 200"):
        badges.update_level(level.id, min_points=200, name_en="X", name_zh="X", actor_id=None,
                            now=now)
    db.session.rollback()
    assert db.session.get(Level, level.id).min_points == 600


def test_the_lowest_level_starts_at_zero(db, defaults, now):
    lowest = db.session.scalar(select(Level).where(Level.min_points == 0))
    with pytest.raises(LevelError, match="lowest level must start at 0"):
        badges.update_level(lowest.id, min_points=10, name_en="X", name_zh="X", actor_id=None,
                            now=now)
    with pytest.raises(LevelError, match="lowest level must start at 0"):
        badges.delete_level(lowest.id, actor_id=None, now=now)


# --- the pages ---------------------------------------------------------------------------

def _signed_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"login": user.employee_number,
                                           "password": "correct-horse-1"})
    assert response.status_code == 302
    return client


def test_my_badges_show_each_award_with_its_open_badges_links(client, login_as, defaults, db,
                                                             team, now):
    row = grant_badge(_badge(db, "smile_star").id, team["agent"].id, team["lead"].id,
                      "Smiled through a storm", now)
    db.session.commit()
    login_as(team["agent"])
    page = client.get("/windmill/badges").get_data(as_text=True)
    assert "Smile Star" in page and "Smiled through a storm" in page and "Lead Li" in page
    assert f"/windmill/badges/assertions/{row.uid}.json" in page
    assert f"/windmill/badges/assertions/{row.uid}.png" in page
    assert "/windmill/badges/classes/smile_star.png" in page
    client.post("/language", data={"locale": "zh_Hans"})
    assert "微笑之星" in client.get("/windmill/badges").get_data(as_text=True)


def test_my_badges_are_mine_only(app, defaults, db, team, make_user, now):
    grant_badge(_badge(db, "smile_star").id, team["agent"].id, team["lead"].id, "Secret praise",
                now)
    db.session.commit()
    other = make_user("agent")
    page = _signed_in(app, other).get("/windmill/badges").get_data(as_text=True)
    assert "Secret praise" not in page


def test_a_team_lead_grants_through_the_form(app, defaults, db, team, make_user):
    outsider = make_user("agent", name="Outsider Zhao")
    client = _signed_in(app, team["lead"])
    form = client.get("/windmill/badges/grant").get_data(as_text=True)
    assert team["agent"].display_name in form and outsider.display_name not in form
    assert team["lead"].display_name not in form
    assert "Smile Star" in form and "QA Excellence" not in form
    smile = _badge(db, "smile_star")
    data = {"agent_id": team["agent"].id, "badge_id": smile.id, "comment": "Great call",
            "token": "a" * 32}
    assert client.post("/windmill/badges/grant", data=data).status_code == 302
    assert client.post("/windmill/badges/grant", data=data).status_code == 302   # resent
    assert len(_awards(db, team["agent"].id)) == 1
    refused = client.post("/windmill/badges/grant", data={**data, "agent_id": outsider.id,
                                                          "token": "b" * 32})
    assert refused.status_code == 200 and len(_awards(db, outsider.id)) == 0


def test_the_cap_shows_as_an_inline_error(app, defaults, db, team):
    smile = _badge(db, "smile_star")
    for _ in range(2):    # the page counts the real current month
        grant_badge(smile.id, team["agent"].id, team["lead"].id, "x", utcnow())
    db.session.commit()
    client = _signed_in(app, team["lead"])
    page = client.post("/windmill/badges/grant", data={
        "agent_id": team["agent"].id, "badge_id": smile.id, "comment": "Third"})
    assert page.status_code == 200
    assert "2 times this month" in page.get_data(as_text=True)


def test_a_trainer_creates_and_edits_a_badge_class(app, defaults, db, instance, make_user):
    client = _signed_in(app, make_user("trainer"))
    data = {"code": "night_owl", "name_en": "Night Owl", "name_zh": "夜猫子",
            "description_en": "Five night shifts.", "description_zh": "五个夜班。",
            "blade": "honour", "kind": "manual", "criteria_window": "month", "points": "20",
            "granter_roles": ["trainer", "team_lead"], "monthly_cap_per_granter": "3",
            "is_active": "y", "criteria_event": ""}
    missing = client.post("/windmill/badges/classes/new", data=data,
                          content_type="multipart/form-data")
    assert missing.status_code == 200 and "Upload the badge" in missing.get_data(as_text=True)
    created = client.post("/windmill/badges/classes/new",
                          data={**data, "image": (io.BytesIO(png_bytes()), "owl.png")},
                          content_type="multipart/form-data")
    assert created.status_code == 302
    badge = _badge(db, "night_owl")
    assert badge.granter_roles == ["team_lead", "trainer"]
    image = app.test_client().get("/windmill/badges/classes/night_owl.png")
    assert image.status_code == 200 and image.data == png_bytes()
    edit = client.get("/windmill/badges/classes/night_owl/edit").get_data(as_text=True)
    assert 'value="Night Owl"' in edit
    saved = client.post("/windmill/badges/classes/night_owl/edit",
                        data={**data, "name_en": "Night Hawk"},
                        content_type="multipart/form-data")
    assert saved.status_code == 302
    db.session.expire_all()
    assert _badge(db, "night_owl").name_en == "Night Hawk"
    gif = client.post("/windmill/badges/classes/night_owl/edit",
                      data={**data, "image": (io.BytesIO(b"GIF89a..."), "owl.png")},
                      content_type="multipart/form-data")
    assert "must be a PNG" in gif.get_data(as_text=True)


def test_only_an_admin_withdraws_an_award(app, defaults, db, team, make_user, now):
    row = grant_badge(_badge(db, "smile_star").id, team["agent"].id, team["lead"].id, "x", now)
    db.session.commit()
    trainer = _signed_in(app, make_user("trainer"))
    listing = trainer.get("/windmill/badges/awards").get_data(as_text=True)
    assert "Wang Fang" in listing and "Withdraw the badge" not in listing
    url = f"/windmill/badges/awards/{row.id}/revoke"
    assert trainer.post(url, data={"reason": "No"}).status_code == 403
    admin = _signed_in(app, make_user("admin"))
    assert "Withdraw the badge" in admin.get("/windmill/badges/awards").get_data(as_text=True)
    assert admin.post(url, data={"reason": "Mistake"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(BadgeAward, row.id).revoked_at is not None
    assert earned_total(team["agent"].id) == 0


def test_the_level_ladder_in_the_users_language(client, login_as, defaults):
    login_as("agent")
    page = client.get("/windmill/levels").get_data(as_text=True)
    assert "Newcomer" in page and "Service Master" in page and "your level" in page
    client.post("/language", data={"locale": "zh_Hans"})
    page = client.get("/windmill/levels").get_data(as_text=True)
    assert "服务新人" in page and "服务大师" in page and "Service Master" not in page


def test_a_trainer_edits_the_ladder_and_errors_show_inline(app, defaults, db, make_user):
    client = _signed_in(app, make_user("trainer"))
    added = client.post("/windmill/levels/new", data={"name_en": "Steady", "name_zh": "稳健",
                                                       "min_points": "400"})
    assert added.status_code == 302
    clash = client.post("/windmill/levels/new", data={"name_en": "Again", "name_zh": "再",
                                                       "min_points": "400"})
    assert clash.status_code == 200
    assert "already starts at 400" in clash.get_data(as_text=True)
    lowest = db.session.scalar(select(Level).where(Level.min_points == 0))
    moved = client.post(f"/windmill/levels/{lowest.id}/edit",
                        data={"name_en": "Newcomer", "name_zh": "服务新人", "min_points": "5"})
    assert "must start at 0" in moved.get_data(as_text=True)
    assert _signed_in(app, make_user("agent")).post(
        "/windmill/levels/new", data={"name_en": "A", "name_zh": "A",
                                      "min_points": "9"}).status_code == 403


# --- at the same time (PostgreSQL) -------------------------------------------------------

def _race(app, first_action, second_action) -> dict[str, str]:
    """Run two units of work at once: the first holds its transaction open for a moment
    after its action, while the second runs; each commits. Returns what each saw."""
    started = threading.Event()
    outcomes: dict[str, str] = {}

    def run(name, action, hold):
        with app.app_context():
            try:
                outcomes[name] = action()
                if hold:
                    started.set()
                    time.sleep(0.5)
                db_.session.commit()
            except BadgeError as error:
                db_.session.rollback()
                outcomes[name] = f"refused: {error}"
            finally:
                started.set()
                db_.session.remove()

    first = threading.Thread(target=run, args=("first", first_action, True))
    first.start()
    started.wait(5)
    second = threading.Thread(target=run, args=("second", second_action, False))
    second.start()
    first.join(10)
    second.join(10)
    return outcomes


def test_racing_checks_award_a_window_once(app, db, defaults, team, now):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    agent_id = team["agent"].id
    _qa(team["agent"], 9, 97, now=now)
    db.session.commit()

    def evaluation(n):
        def action():
            award(Award("qa.evaluation", agent_id, f"race:{n}", "qa_evaluation", score=97),
                  now=now)
            return ",".join(a.window for a in check_automatic_badges(agent_id, "qa.evaluation",
                                                                     now=now))
        return action

    outcomes = _race(app, evaluation(1), evaluation(2))
    assert outcomes == {"first": "2026-03", "second": ""}
    assert len(_awards(db, agent_id, "qa_excellence")) == 1


def test_racing_grants_respect_the_cap(app, db, defaults, team, now):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    smile_id, agent_id, lead_id = _badge(db, "smile_star").id, team["agent"].id, team["lead"].id
    grant_badge(smile_id, agent_id, lead_id, "one", now)
    db.session.commit()

    def grant():
        return grant_badge(smile_id, agent_id, lead_id, "again", now).uid

    outcomes = _race(app, grant, grant)
    assert outcomes["second"].startswith("refused: You have granted this badge 2 times")
    assert len(_awards(db, agent_id, "smile_star")) == 2


def test_a_batch_awards_automatic_badges_to_those_who_reach_them(db, defaults, make_user, now):
    star = make_user("agent")
    almost = make_user("agent")
    awards = [Award("qa.evaluation", star.id, f"qa:s:{n}", "qa_evaluation", score=97)
              for n in range(10)]
    awards += [Award("qa.evaluation", almost.id, f"qa:a:{n}", "qa_evaluation", score=97)
               for n in range(9)]
    award_batch(awards, now=now)
    codes = {(a.user_id, a.badge.code) for a in db.session.scalars(select(BadgeAward))}
    assert codes == {(star.id, "qa_excellence")}
