"""The training room through its pages: an agent's three stages, the mentor's queue, the
sign-off, the trainer's library, upload, export, preview and report, who sees what."""
from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from app.auth.roles import Role
from app.scenarios.models import Recording, ScenarioProgress
from tests.conftest import PASSWORD
from tests.scenarios.conftest import MP4, key_marks

RUBRIC = {"opening": "4", "empathy": "4", "standard": "5", "resolution": "4"}


def _sign_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"login": user.employee_number, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _progress(db, user):
    return db.session.scalar(select(ScenarioProgress).where(ScenarioProgress.user_id == user.id))


def _play_stage_two(client, db, progress_id):
    for _ in range(50):
        page = client.get(f"/scenarios/progress/{progress_id}/reverse").get_data(as_text=True)
        if 'data-testid="recording-form"' in page:
            return page
        choice = "0" if 'data-testid="choice-0"' in page else ""
        client.post(f"/scenarios/progress/{progress_id}/reverse/choose", data={"choice": choice})
    raise AssertionError("no end")


def _play_stage_three(client, db, progress):
    play = progress.version.content["positive_practice"]
    for _ in range(100):
        db.session.expire_all()
        attempt = sorted(progress.attempts, key=lambda a: a.id)[-1]
        if attempt.stage == 3 and attempt.finished_at:
            return attempt
        client.get(f"/scenarios/progress/{progress.id}/practice")
        db.session.expire_all()
        attempt = sorted(progress.attempts, key=lambda a: a.id)[-1]
        node = play["nodes"][attempt.state["node"]]
        if node.get("reply"):
            client.post(f"/scenarios/progress/{progress.id}/practice/reply",
                        data={"reply": node["reply"]["model"]["en"]})
        else:
            right = next((i for i, c in enumerate(node.get("choices") or [])
                          if c.get("correct")), "")
            client.post(f"/scenarios/progress/{progress.id}/practice/choose",
                        data={"choice": str(right)})
    raise AssertionError("no end")


def test_an_agent_plays_the_three_stages_and_the_mentor_signs_off(app, db, library, pair):
    apprentice, mentor = pair["apprentice"], pair["mentor"]
    agent = _sign_in(app, apprentice)
    room = agent.get("/scenarios/").get_data(as_text=True)
    assert 'data-testid="scenario-S07"' in room and room.count("card scenario-card") == 10

    response = agent.post("/scenarios/S07/start")
    assert response.status_code == 302 and response.headers["Location"].endswith("/case")
    progress = _progress(db, apprentice)
    key = key_marks(progress.version.content)
    case = agent.get(f"/scenarios/progress/{progress.id}/case").get_data(as_text=True)
    assert 'data-testid="case-form"' in case
    data = {"line": list(key)} | {f"rule-{line}": rule for line, rule in key.items()}
    agent.post(f"/scenarios/progress/{progress.id}/case", data=data)
    result = agent.get(f"/scenarios/progress/{progress.id}/case").get_data(as_text=True)
    assert 'data-testid="case-result"' in result and 'data-testid="case-correct"' in result

    page = _play_stage_two(agent, db, progress.id)
    assert 'data-testid="reverse-debrief"' in page
    refused = agent.post(f"/scenarios/progress/{progress.id}/recording", data={
        "recording": (io.BytesIO(b"just text" * 50), "me.mp4"),
        "reflection": "Refusing to listen made the customer angrier at every turn."},
        content_type="multipart/form-data", follow_redirects=True)
    assert "is not a video recording" in refused.get_data(as_text=True)
    done = agent.post(f"/scenarios/progress/{progress.id}/recording", data={
        "recording": (io.BytesIO(MP4), "me.mp4"),
        "reflection": "Refusing to listen made the customer angrier at every turn."},
        content_type="multipart/form-data")
    assert done.status_code == 302 and done.headers["Location"].endswith("/practice")

    attempt = _play_stage_three(agent, db, progress)
    assert attempt.passed
    db.session.expire_all()
    assert _progress(db, apprentice).status == "awaiting_sign_off"

    desk = _sign_in(app, mentor)
    queue = desk.get("/scenarios/sign-offs").get_data(as_text=True)
    assert f'data-testid="open-sign-off-{progress.id}"' in queue
    recording = db.session.scalar(select(Recording))
    assert desk.get(f"/scenarios/recordings/{recording.id}/file").data == MP4
    desk.post(f"/scenarios/recordings/{recording.id}", data={"comment": "Convincing."})
    db.session.expire_all()
    assert db.session.get(Recording, recording.id).review_comment == "Convincing."
    back = desk.post(f"/scenarios/sign-offs/{progress.id}",
                     data=RUBRIC | {"decision": "sent_back", "comment": "Slow down."})
    assert back.status_code == 302
    db.session.expire_all()
    assert _progress(db, apprentice).status == "in_progress"
    sent = agent.get(f"/scenarios/progress/{progress.id}/practice").get_data(as_text=True)
    assert "Slow down." in sent
    _play_stage_three(agent, db, _progress(db, apprentice))
    desk.post(f"/scenarios/sign-offs/{progress.id}", data=RUBRIC | {"decision": "signed_off"})
    db.session.expire_all()
    assert _progress(db, apprentice).status == "completed"
    windmill = agent.get("/windmill/").get_data(as_text=True)
    assert windmill.count("Scenario stage completed<br>") == 3
    assert windmill.count("Practice signed off by the mentor<br>") == 1


def test_others_cannot_open_an_agents_stages_or_recording(app, db, library, pair, make_user,
                                                          now):
    from app.scenarios import services
    from tests.scenarios.conftest import upload, walk_reverse
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S01", now=now)
    services.submit_case(progress.id, key_marks(progress.version.content),
                         actor_id=apprentice.id, now=now)
    walk_reverse(progress, apprentice.id, now)
    recording = upload(progress, apprentice.id, now)
    db.session.commit()
    peer = _sign_in(app, make_user(Role.AGENT, team=pair["team"]))
    for url in (f"/scenarios/progress/{progress.id}/case",
                f"/scenarios/progress/{progress.id}/reverse",
                f"/scenarios/progress/{progress.id}/practice",
                f"/scenarios/recordings/{recording.id}",
                f"/scenarios/recordings/{recording.id}/file"):
        assert peer.get(url).status_code == 403, url
    assert peer.post(f"/scenarios/progress/{progress.id}/case",
                     data={"line": "L1"}).status_code == 403
    lead = _sign_in(app, pair["lead"])      # the team lead sees the recording, may not review
    assert lead.get(f"/scenarios/recordings/{recording.id}").status_code == 200
    assert lead.post(f"/scenarios/recordings/{recording.id}",
                     data={"comment": "x"}).status_code == 403
    assert lead.get(f"/scenarios/sign-offs/{progress.id}").status_code == 403


def test_a_trainer_imports_previews_exports_and_reports(app, db, library, make_user):
    from tests.scenarios.test_formats import _broken, _points_nowhere
    trainer = _sign_in(app, make_user(Role.TRAINER))
    make_user(Role.AGENT, hire_date=date(2026, 2, 9))
    page = trainer.get("/scenarios/manage").get_data(as_text=True)
    assert page.count("preview-S") == 10
    refused = trainer.post("/scenarios/manage", data={
        "files": [(io.BytesIO(_broken(_points_nowhere)), "broken.yaml")]},
        content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "r404, which does not exist" in refused.get_data(as_text=True)
    same = (library.files[0].source).encode("utf-8")
    again = trainer.post("/scenarios/manage", data={"files": [(io.BytesIO(same), "S01.yaml")]},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "0 new, 0 new versions, 1 unchanged" in again.get_data(as_text=True)
    exported = trainer.get("/scenarios/manage/S04/export")
    assert exported.status_code == 200 and b"code: S04" in exported.data
    assert "attachment" in exported.headers["Content-Disposition"]
    preview = trainer.post("/scenarios/manage/S04/preview")
    assert preview.status_code == 302 and "/case" in preview.headers["Location"]
    assert trainer.get(preview.headers["Location"]).status_code == 200
    report = trainer.get("/scenarios/report?by=cohort").get_data(as_text=True)
    assert 'data-testid="report-table"' in report and "2026-02" in report


def test_a_team_lead_assigns_and_sees_overdue(app, db, library, pair, now):
    from datetime import timedelta

    from app.database import utcnow
    from app.scenarios import services
    lead = _sign_in(app, pair["lead"])
    form = lead.get("/scenarios/assign").get_data(as_text=True)
    assert pair["apprentice"].display_name in form
    response = lead.post("/scenarios/assign", data={
        "agent_id": pair["apprentice"].id, "code": "S08",
        "due_on": (utcnow().date() + timedelta(days=5)).isoformat(), "reason": "Transfers"})
    assert response.status_code == 302
    past = services.assign_scenario(pair["apprentice"].id, "S02", due_on=None, reason="old",
                                    actor=pair["lead"], now=now)
    past.due_on = now.date() - timedelta(days=400)   # long overdue by today's date
    db.session.commit()
    queue = lead.get("/scenarios/sign-offs").get_data(as_text=True)
    assert "old" in queue and 'class="overdue"' in queue
    mentor = _sign_in(app, pair["mentor"])
    assert 'class="overdue"' in mentor.get("/scenarios/sign-offs").get_data(as_text=True)
    agent = _sign_in(app, pair["apprentice"])
    room = agent.get("/scenarios/").get_data(as_text=True)
    assert "overdue since" in room and "S08" in room


def test_the_homes_show_the_training_room(app, db, library, pair, now):
    from datetime import timedelta

    from app.scenarios import services
    from tests.scenarios.conftest import play_practice, upload, walk_reverse
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S05", now=now)
    services.submit_case(progress.id, key_marks(progress.version.content),
                         actor_id=apprentice.id, now=now)
    walk_reverse(progress, apprentice.id, now)
    upload(progress, apprentice.id, now)
    play_practice(progress, apprentice.id, now)
    late = services.assign_scenario(apprentice.id, "S09", due_on=None, reason="",
                                    actor=pair["lead"], now=now)
    late.due_on = now.date() - timedelta(days=1)   # due the day before the clock's today
    db.session.commit()
    mentor_home = _sign_in(app, pair["mentor"]).get("/home/mentor").get_data(as_text=True)
    assert f"/scenarios/sign-offs/{progress.id}" in mentor_home
    assert 'data-testid="home-overdue"' in mentor_home
    agent_home = _sign_in(app, apprentice).get("/home/agent").get_data(as_text=True)
    assert "overdue since" in agent_home and "waiting for sign-off" in agent_home


def test_audio_evidence_is_imported_from_a_folder_and_shown_in_the_case(
        app, db, runner, make_user, tmp_path, monkeypatch, now):
    import yaml

    from app.scenarios import importers, services
    from tests.scenarios.conftest import MP3
    monkeypatch.setitem(app.config, "SCENARIO_MEDIA_DIR", str(tmp_path / "media"))
    folder = tmp_path / "upload"
    folder.mkdir()
    doc = yaml.safe_load((importers.shipped_library() / "S05-unverified-disclosure.yaml")
                         .read_text("utf-8"))
    doc["case_analysis"]["media"] = [{"kind": "audio", "file": "call.mp3", "caption": {
        "zh": "通话录音", "en": "The call recording"}}]
    (folder / "S05.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    missing = runner.invoke(args=["scenarios", "import", str(folder)])
    assert missing.exit_code == 1 and "The media file call.mp3 does not exist" in missing.output
    (folder / "call.mp3").write_bytes(MP3)
    done = runner.invoke(args=["scenarios", "import", str(folder)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "media" / "S05" / "1" / "call.mp3").read_bytes() == MP3

    agent = make_user()
    progress = services.start_scenario(agent.id, "S05", now=now)
    db.session.commit()
    client = _sign_in(app, agent)
    case = client.get(f"/scenarios/progress/{progress.id}/case").get_data(as_text=True)
    assert '<audio controls preload="metadata" src="/scenarios/media/S05/1/call.mp3">' in case
    assert client.get("/scenarios/media/S05/1/call.mp3").data == MP3
    assert client.get("/scenarios/media/S05/1/../../../x").status_code == 404

    trainer = _sign_in(app, make_user(Role.TRAINER))
    data = (folder / "S05.yaml").read_bytes()
    refused = trainer.post("/scenarios/manage", data={"files": [(io.BytesIO(data), "S05.yaml")]},
                           content_type="multipart/form-data")
    assert "flask scenarios import FOLDER" in refused.get_data(as_text=True)
