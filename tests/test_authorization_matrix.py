"""Every route × every role (and anonymous) gets the expected status.

A route without an entry here fails `test_every_route_is_in_the_matrix`, so nobody can add
a page without deciding who may open it.
"""
from __future__ import annotations

from datetime import date

import pytest

from app.auth.roles import Role
from app.incentives.services import Award, award, install_defaults
from app.notifications.services import notify
from app.qa import scorecards
from app.qa import services as qa_services
from app.qa.models import QaImport

ACTORS = ("anonymous", "agent", "mentor", "team_lead", "qa_analyst", "trainer", "admin")
SIGNED_IN = ACTORS[1:]


def only(allowed: dict[str, int], *, default: int = 403, anonymous: int = 302) -> dict:
    """Expected statuses: `allowed` for the named actors, `default` for the other signed-in
    ones, and a redirect to the sign-in page for anonymous visitors."""
    expected = {actor: default for actor in SIGNED_IN}
    expected["anonymous"] = anonymous
    expected.update(allowed)
    return expected


def everyone(code: int, anonymous: int = 302) -> dict:
    return only({actor: code for actor in SIGNED_IN}, anonymous=anonymous)


ADMIN_PAGE = only({"admin": 200})
ADMIN_ACTION = only({"admin": 302})
PEOPLE_VIEWERS = only({"qa_analyst": 200, "trainer": 200, "admin": 200})
QA_PAGE = PEOPLE_VIEWERS
QA_NOT_FOUND = only({"qa_analyst": 404, "trainer": 404, "admin": 404})
QA_PAGE_OR_NOT_FOUND = only({"qa_analyst": 200, "trainer": 200, "admin": 200}, default=404)

# (endpoint, method) → (url template, form data, expected status per actor)
MATRIX: dict[tuple[str, str], tuple[str, dict | None, dict]] = {
    ("main.index", "GET"): ("/", None, everyone(302)),
    ("main.home", "GET"): ("/home", None, everyone(302)),
    ("main.role_home", "GET"): ("/home/agent", None, only({"agent": 200})),
    ("main.language_set", "POST"): ("/language", {"locale": "en"}, everyone(302, anonymous=302)),
    ("main.healthz", "GET"): ("/healthz", None, everyone(200, anonymous=200)),
    ("auth.login", "GET"): ("/login", None, everyone(302, anonymous=200)),
    ("auth.login", "POST"): ("/login", {"login": "nobody", "password": "wrong-password"},
                             everyone(302, anonymous=401)),
    ("auth.logout", "POST"): ("/logout", {}, everyone(302)),
    ("auth.password_change", "GET"): ("/account/password", None, everyone(200)),
    ("auth.password_change", "POST"): ("/account/password", {}, everyone(200)),
    ("auth.people_list", "GET"): ("/people", None, PEOPLE_VIEWERS),
    ("auth.people_create", "GET"): ("/people/new", None, ADMIN_PAGE),
    ("auth.people_create", "POST"): ("/people/new", {}, ADMIN_PAGE),
    ("auth.people_show", "GET"): ("/people/{target}", None, PEOPLE_VIEWERS),
    ("auth.people_edit", "GET"): ("/people/{target}/edit", None, ADMIN_PAGE),
    # an empty post leaves the person as they are and goes back to their page
    ("auth.people_edit", "POST"): ("/people/{target}/edit", {}, ADMIN_ACTION),
    ("auth.people_deactivate", "POST"): ("/people/{target}/deactivate",
                                         {"leave_date": "2026-03-01"}, ADMIN_ACTION),
    ("auth.people_reactivate", "POST"): ("/people/{target}/reactivate", {}, ADMIN_ACTION),
    ("auth.people_password", "POST"): ("/people/{target}/password",
                                       {"new_password": "another-pass-9"}, ADMIN_ACTION),
    ("auth.people_mentor", "POST"): ("/people/{target}/mentor", {}, ADMIN_ACTION),
    ("auth.people_mentor_end", "POST"): ("/people/{target}/mentor/end", {}, ADMIN_ACTION),
    ("auth.roster_import", "GET"): ("/people/import", None, ADMIN_PAGE),
    ("auth.roster_import", "POST"): ("/people/import", {}, ADMIN_PAGE),
    ("auth.team_list", "GET"): ("/teams", None, PEOPLE_VIEWERS),
    ("auth.team_create", "GET"): ("/teams/new", None, ADMIN_PAGE),
    ("auth.team_create", "POST"): ("/teams/new", {}, ADMIN_PAGE),
    ("auth.team_show", "GET"): ("/teams/{team}", None, PEOPLE_VIEWERS),
    ("auth.team_edit", "GET"): ("/teams/{team}/edit", None, ADMIN_PAGE),
    ("auth.team_edit", "POST"): ("/teams/{team}/edit", {}, ADMIN_PAGE),
    ("notifications.inbox", "GET"): ("/inbox/", None, everyone(200)),
    # someone else's notification is "not found" for everybody
    ("notifications.notification_read", "POST"): ("/inbox/{notification}/read", {},
                                                  everyone(404)),
    ("notifications.inbox_read_all", "POST"): ("/inbox/read-all", {}, everyone(302)),
    ("audit.event_list", "GET"): ("/audit/", None, ADMIN_PAGE),
    ("training.index", "GET"): ("/training/", None, everyone(200)),
    # --- training: the target's attempt is the target's; the trainer's pages are theirs ---
    ("training.lesson", "GET"): ("/training/lessons/L-MX", None, everyone(200)),
    ("training.lesson", "POST"): ("/training/lessons/L-MX", {}, everyone(302)),
    ("training.quiz", "GET"): ("/training/quizzes/MX", None, everyone(200)),
    ("training.quiz_start", "POST"): ("/training/quizzes/MX/start", {}, everyone(302)),
    ("training.attempt", "GET"): ("/training/attempts/{attempt}", None, everyone(403)),
    ("training.attempt_answer", "POST"): ("/training/attempts/{attempt}/answer",
                                          {"index": "0", "q0": "0"}, everyone(403)),
    ("training.attempt_submit", "POST"): ("/training/attempts/{attempt}/submit", {},
                                          everyone(403)),
    ("training.attempt_review", "GET"): ("/training/attempts/{attempt}/review", None, QA_PAGE),
    ("training.path", "GET"): ("/training/paths/P-MX?user={target}", None, QA_PAGE),
    ("training.certificate", "GET"): ("/training/paths/P-MX/certificate", None, everyone(404)),
    ("training.people", "GET"): ("/training/people", None,
                                 only({"mentor": 200, "team_lead": 200, "admin": 200})),
    ("training.note_add", "POST"): ("/training/notes", {}, only({"mentor": 302, "admin": 302})),
    ("training.bank", "GET"): ("/training/bank", None, only({"trainer": 200, "admin": 200})),
    ("training.bank", "POST"): ("/training/bank", {}, only({"trainer": 200, "admin": 200})),
    ("training.bank_export", "GET"): ("/training/bank/export", None,
                                      only({"trainer": 200, "admin": 200})),
    ("training.quiz_manage", "GET"): ("/training/quizzes", None,
                                      only({"trainer": 200, "admin": 200})),
    ("training.quiz_manage", "POST"): ("/training/quizzes", {},
                                       only({"trainer": 200, "admin": 200})),
    ("training.path_manage", "GET"): ("/training/paths", None,
                                      only({"trainer": 200, "admin": 200})),
    ("training.path_manage", "POST"): ("/training/paths", {},
                                       only({"trainer": 200, "admin": 200})),
    ("training.grading_queue", "GET"): ("/training/grading", None,
                                        only({"trainer": 200, "admin": 200})),
    ("training.grading_queue", "POST"): ("/training/grading", {},
                                         only({"trainer": 200, "admin": 200})),
    ("training.special_topic", "GET"): ("/training/special-topics", None,
                                        only({"trainer": 200, "admin": 200})),
    ("training.special_topic", "POST"): ("/training/special-topics", {},
                                         only({"trainer": 200, "admin": 200})),
    ("training.report", "GET"): ("/training/report", None, QA_PAGE),
    ("training.lesson_manage", "GET"): ("/training/lessons", None,
                                        only({"trainer": 200, "admin": 200})),
    ("training.lesson_manage", "POST"): ("/training/lessons", {},
                                         only({"trainer": 200, "admin": 200})),
    ("training.question_edit", "GET"): ("/training/bank/questions/{question}", None,
                                        only({"trainer": 200, "admin": 200})),
    ("training.question_edit", "POST"): ("/training/bank/questions/{question}", {},
                                         only({"trainer": 200, "admin": 200})),
    ("training.media", "GET"): ("/training/media/none.mp4", None, everyone(404)),
    ("training.path_upload", "POST"): ("/training/paths/upload", {},
                                       only({"trainer": 302, "admin": 302})),
    ("scenarios.index", "GET"): ("/scenarios/", None, everyone(200)),
    # --- the training room: the target's progress is the target's alone ---
    ("scenarios.show", "GET"): ("/scenarios/S01", None, everyone(200)),
    ("scenarios.start", "POST"): ("/scenarios/S01/start", {}, everyone(302)),
    ("scenarios.case", "GET"): ("/scenarios/progress/{progress}/case", None, everyone(403)),
    ("scenarios.case", "POST"): ("/scenarios/progress/{progress}/case", {"line": "L1"},
                                 everyone(403)),
    ("scenarios.reverse", "GET"): ("/scenarios/progress/{progress}/reverse", None,
                                   everyone(403)),
    ("scenarios.reverse_act", "POST"): ("/scenarios/progress/{progress}/reverse/choose",
                                        {"choice": "0"}, everyone(403)),
    ("scenarios.recording_upload", "POST"): ("/scenarios/progress/{progress}/recording", {},
                                             everyone(403)),
    ("scenarios.practice", "GET"): ("/scenarios/progress/{progress}/practice", None,
                                    everyone(403)),
    ("scenarios.practice_act", "POST"): ("/scenarios/progress/{progress}/practice/choose",
                                         {"choice": "0"}, everyone(403)),
    ("scenarios.recording_show", "GET"): ("/scenarios/recordings/{recording}", None,
                                          PEOPLE_VIEWERS),
    ("scenarios.recording_show", "POST"): ("/scenarios/recordings/{recording}", {},
                                           only({"trainer": 200, "admin": 200})),
    ("scenarios.recording_file", "GET"): ("/scenarios/recordings/{recording}/file", None,
                                          PEOPLE_VIEWERS),
    ("scenarios.media", "GET"): ("/scenarios/media/S01/1/none.mp3", None, everyone(404)),
    ("scenarios.sign_offs", "GET"): ("/scenarios/sign-offs", None, only(
        {"mentor": 200, "team_lead": 200, "trainer": 200, "admin": 200})),
    # the target has no mentor: a trainer (or admin) signs off
    ("scenarios.sign_off", "GET"): ("/scenarios/sign-offs/{progress}", None,
                                    only({"trainer": 200, "admin": 200})),
    ("scenarios.sign_off", "POST"): ("/scenarios/sign-offs/{progress}", {},
                                     only({"trainer": 200, "admin": 200})),
    ("scenarios.assign", "GET"): ("/scenarios/assign", None,
                                  only({"team_lead": 200, "trainer": 200, "admin": 200})),
    ("scenarios.assign", "POST"): ("/scenarios/assign", {},
                                   only({"team_lead": 200, "trainer": 200, "admin": 200})),
    ("scenarios.manage", "GET"): ("/scenarios/manage", None,
                                  only({"trainer": 200, "admin": 200})),
    ("scenarios.manage", "POST"): ("/scenarios/manage", {}, only({"trainer": 200, "admin": 200})),
    ("scenarios.export", "GET"): ("/scenarios/manage/S01/export", None,
                                  only({"trainer": 200, "admin": 200})),
    ("scenarios.preview", "POST"): ("/scenarios/manage/S01/preview", {},
                                    only({"trainer": 302, "admin": 302})),
    ("scenarios.report", "GET"): ("/scenarios/report", None, QA_PAGE),
    ("incentives.index", "GET"): ("/windmill/", None, everyone(200)),
    # --- incentives: ledger pages, rules, recognitions (lead) ---
    ("incentives.person_show", "GET"): ("/windmill/people/{target}", None, PEOPLE_VIEWERS),
    ("incentives.team_show", "GET"): ("/windmill/teams/{team}", None, PEOPLE_VIEWERS),
    ("incentives.recognition_create", "GET"): ("/windmill/recognitions/new", None,
                                               only({"team_lead": 200, "admin": 200})),
    ("incentives.recognition_create", "POST"): ("/windmill/recognitions/new", {},
                                                only({"team_lead": 200, "admin": 200})),
    ("incentives.rule_list", "GET"): ("/windmill/rules", None,
                                      only({"trainer": 200, "admin": 200})),
    ("incentives.rule_edit", "GET"): ("/windmill/rules/{rule}", None,
                                      only({"trainer": 200, "admin": 200})),
    ("incentives.rule_edit", "POST"): ("/windmill/rules/{rule}", {},
                                       only({"trainer": 200, "admin": 200})),
    ("incentives.entry_reverse", "POST"): ("/windmill/entries/{entry}/reverse", {},
                                           only({"trainer": 302, "admin": 302})),
    # --- incentives: rewards, redemptions, violations, coaching (helper B) ---
    ("incentives.reward_list", "GET"): ("/windmill/rewards", None, everyone(200)),
    # there is no reward, redemption or coaching task 0: whoever may act finds nothing there
    ("incentives.reward_redeem", "POST"): ("/windmill/rewards/0/redeem", {}, everyone(404)),
    ("incentives.redemption_mine", "GET"): ("/windmill/redemptions/mine", None,
                                            everyone(200)),
    ("incentives.redemption_cancel", "POST"): ("/windmill/redemptions/0/cancel", {},
                                               everyone(404)),
    ("incentives.reward_manage", "GET"): ("/windmill/rewards/manage", None,
                                          only({"trainer": 200, "admin": 200})),
    ("incentives.reward_create", "GET"): ("/windmill/rewards/new", None,
                                          only({"trainer": 200, "admin": 200})),
    ("incentives.reward_create", "POST"): ("/windmill/rewards/new", {},
                                           only({"trainer": 200, "admin": 200})),
    ("incentives.reward_edit", "GET"): ("/windmill/rewards/0/edit", None,
                                        only({"trainer": 404, "admin": 404})),
    ("incentives.reward_edit", "POST"): ("/windmill/rewards/0/edit", {},
                                         only({"trainer": 404, "admin": 404})),
    ("incentives.redemption_list", "GET"): ("/windmill/redemptions", None,
                                            only({"trainer": 200, "admin": 200})),
    ("incentives.redemption_approve", "POST"): ("/windmill/redemptions/0/approve", {},
                                                only({"trainer": 404, "admin": 404})),
    ("incentives.redemption_reject", "POST"): ("/windmill/redemptions/0/reject", {},
                                               only({"trainer": 404, "admin": 404})),
    ("incentives.redemption_fulfil", "POST"): ("/windmill/redemptions/0/fulfil", {},
                                               only({"trainer": 404, "admin": 404})),
    ("incentives.violation_list", "GET"): ("/windmill/violations", None,
                                           only({"team_lead": 200, "qa_analyst": 200,
                                                 "trainer": 200, "admin": 200})),
    ("incentives.violation_mine", "GET"): ("/windmill/violations/mine", None, everyone(200)),
    ("incentives.violation_create", "GET"): ("/windmill/violations/new", None,
                                             only({"team_lead": 200, "admin": 200})),
    ("incentives.violation_create", "POST"): ("/windmill/violations/new", {},
                                              only({"team_lead": 200, "admin": 200})),
    ("incentives.coaching_list", "GET"): ("/windmill/coaching", None,
                                          only({"team_lead": 200, "admin": 200})),
    ("incentives.coaching_complete", "POST"): ("/windmill/coaching/0/done", {},
                                               only({"team_lead": 404, "admin": 404})),
    # --- incentives: badges, levels, Open Badges, Service Star (helper C) ---
    ("incentives.badge_list", "GET"): ("/windmill/badges", None, everyone(200)),
    ("incentives.badge_grant", "GET"): ("/windmill/badges/grant", None,
                                        only({"team_lead": 200, "trainer": 200, "admin": 200})),
    ("incentives.badge_grant", "POST"): ("/windmill/badges/grant", {},
                                         only({"team_lead": 200, "trainer": 200, "admin": 200})),
    ("incentives.badge_class_list", "GET"): ("/windmill/badges/classes", None,
                                             only({"trainer": 200, "admin": 200})),
    ("incentives.badge_class_create", "GET"): ("/windmill/badges/classes/new", None,
                                               only({"trainer": 200, "admin": 200})),
    ("incentives.badge_class_create", "POST"): ("/windmill/badges/classes/new", {},
                                                only({"trainer": 200, "admin": 200})),
    ("incentives.badge_class_edit", "GET"): ("/windmill/badges/classes/smile_star/edit", None,
                                             only({"trainer": 200, "admin": 200})),
    ("incentives.badge_class_edit", "POST"): ("/windmill/badges/classes/smile_star/edit", {},
                                              only({"trainer": 200, "admin": 200})),
    ("incentives.badge_award_list", "GET"): ("/windmill/badges/awards", None,
                                             only({"trainer": 200, "admin": 200})),
    ("incentives.badge_award_revoke", "POST"): ("/windmill/badges/awards/0/revoke", {},
                                                only({"admin": 404})),
    # the Open Badges documents are public: anyone may verify a badge
    ("incentives.badge_issuer", "GET"): ("/windmill/badges/issuer.json", None,
                                         everyone(200, anonymous=200)),
    ("incentives.badge_class_json", "GET"): ("/windmill/badges/classes/smile_star.json", None,
                                             everyone(200, anonymous=200)),
    ("incentives.badge_class_image", "GET"): ("/windmill/badges/classes/smile_star.png", None,
                                              everyone(200, anonymous=200)),
    ("incentives.badge_assertion_json", "GET"): ("/windmill/badges/assertions/nope.json", None,
                                                 everyone(404, anonymous=404)),
    ("incentives.badge_assertion_png", "GET"): ("/windmill/badges/assertions/nope.png", None,
                                                everyone(404, anonymous=404)),
    ("incentives.level_list", "GET"): ("/windmill/levels", None, everyone(200)),
    ("incentives.level_create", "GET"): ("/windmill/levels/new", None,
                                         only({"trainer": 200, "admin": 200})),
    ("incentives.level_create", "POST"): ("/windmill/levels/new", {},
                                          only({"trainer": 200, "admin": 200})),
    ("incentives.level_edit", "GET"): ("/windmill/levels/1/edit", None,
                                       only({"trainer": 200, "admin": 200})),
    ("incentives.level_edit", "POST"): ("/windmill/levels/1/edit", {},
                                        only({"trainer": 200, "admin": 200})),
    ("incentives.level_delete", "POST"): ("/windmill/levels/0/delete", {},
                                          only({"trainer": 404, "admin": 404})),
    ("incentives.star_list", "GET"): ("/windmill/stars", None,
                                      only({"trainer": 200, "admin": 200})),
    ("incentives.star_propose", "POST"): ("/windmill/stars/propose", {},
                                          only({"trainer": 302, "admin": 302})),
    ("incentives.star_propose_year", "POST"): ("/windmill/stars/propose-year", {},
                                               only({"trainer": 302, "admin": 302})),
    ("incentives.star_confirm", "POST"): ("/windmill/stars/0/confirm", {},
                                          only({"trainer": 404, "admin": 404})),
    ("incentives.star_decline", "POST"): ("/windmill/stars/0/decline", {},
                                          only({"trainer": 404, "admin": 404})),
    ("leaderboard.index", "GET"): ("/leaderboard/", None, everyone(200)),
    ("leaderboard.month_close", "POST"): ("/leaderboard/close/2026-02", {},
                                          only({"trainer": 302, "admin": 302})),
    ("leaderboard.board_json", "GET"): ("/leaderboard/board.json", None, everyone(200)),
    ("leaderboard.board_export", "GET"): ("/leaderboard/export.csv", None, everyone(200)),
    ("leaderboard.wallboard_list", "GET"): ("/leaderboard/wallboards", None, ADMIN_PAGE),
    ("leaderboard.wallboard_list", "POST"): ("/leaderboard/wallboards", {}, ADMIN_PAGE),
    ("leaderboard.wallboard_revoke", "POST"): ("/leaderboard/wallboards/0/revoke", {},
                                               only({"admin": 404})),
    # the wallboard needs no sign-in, only a live link: an unknown one is not found
    ("leaderboard.wall_show", "GET"): ("/leaderboard/wall/not-a-token", None,
                                       everyone(404, anonymous=404)),
    ("leaderboard.wall_json", "GET"): ("/leaderboard/wall/not-a-token.json", None,
                                       everyone(404, anonymous=404)),
    ("qa.index", "GET"): ("/qa/", None, everyone(302)),
    ("qa.desk", "GET"): ("/qa/desk", None, QA_PAGE),
    ("qa.scorecard_list", "GET"): ("/qa/scorecards", None, QA_PAGE),
    ("qa.scorecard_show", "GET"): ("/qa/scorecards/{scorecard}", None, QA_PAGE),
    ("qa.scorecard_edit", "GET"): ("/qa/scorecards/{scorecard}/edit", None, QA_PAGE),
    # an empty post shows the form again with its errors
    ("qa.scorecard_edit", "POST"): ("/qa/scorecards/{scorecard}/edit", {}, QA_PAGE),
    ("qa.import_new", "GET"): ("/qa/imports/new", None, QA_PAGE),
    ("qa.import_new", "POST"): ("/qa/imports/new", {}, QA_PAGE),
    # a preview token is the uploader's own: an unknown one is not found
    ("qa.import_preview", "GET"): ("/qa/imports/preview/not-a-token", None, QA_NOT_FOUND),
    ("qa.import_preview", "POST"): ("/qa/imports/preview/not-a-token", {}, QA_NOT_FOUND),
    ("qa.import_errors", "GET"): ("/qa/imports/preview/not-a-token/errors.csv", None,
                                  QA_NOT_FOUND),
    ("qa.import_show", "GET"): ("/qa/imports/{qa_import}", None, QA_PAGE),
    ("qa.mappings", "GET"): ("/qa/mappings", None, QA_PAGE),
    ("qa.mappings", "POST"): ("/qa/mappings", {}, QA_PAGE),
    ("qa.mine", "GET"): ("/qa/mine", None, everyone(200)),
    # another team's agent: only those who see every agent's records
    ("qa.person", "GET"): ("/qa/people/{target}", None, QA_PAGE_OR_NOT_FOUND),
    ("qa.evaluation_show", "GET"): ("/qa/evaluations/{evaluation}", None,
                                    QA_PAGE_OR_NOT_FOUND),
    # only the agent may dispute: for everyone else the empty form goes back to the page
    ("qa.dispute", "POST"): ("/qa/evaluations/{evaluation}/dispute", {},
                             only({"qa_analyst": 302, "trainer": 302, "admin": 302},
                                  default=404)),
    ("qa.disputes", "GET"): ("/qa/disputes", None,
                             only({"team_lead": 200, "qa_analyst": 200, "trainer": 200,
                                   "admin": 200})),
    ("qa.resolve", "POST"): ("/qa/disputes/{dispute}/resolve", {},
                             only({"qa_analyst": 302, "trainer": 302, "admin": 302},
                                  default=404)),
    # the matrix's team lead leads no team: nothing to show
    ("qa.team", "GET"): ("/qa/team", None, QA_PAGE),
    ("qa.remediation", "GET"): ("/qa/remediation", None,
                                only({"trainer": 200, "admin": 200})),
    ("qa.remediation", "POST"): ("/qa/remediation", {}, only({"trainer": 200, "admin": 200})),
    ("lti.index", "GET"): ("/lti/", None, ADMIN_PAGE),
    # the platform's side: open to the platform (a launch without a valid token is refused)
    ("lti.login", "GET"): ("/lti/login", None, everyone(400, anonymous=400)),
    ("lti.login", "POST"): ("/lti/login", {}, everyone(400, anonymous=400)),
    ("lti.launch", "POST"): ("/lti/launch", {}, everyone(400, anonymous=400)),
    ("lti.jwks", "GET"): ("/lti/jwks", None, everyone(200, anonymous=200)),
    ("lti.deep_link", "GET"): ("/lti/deep-link/none", None,
                               only({"team_lead": 404, "trainer": 404, "admin": 404})),
    ("lti.deep_link", "POST"): ("/lti/deep-link/none", {},
                                only({"team_lead": 404, "trainer": 404, "admin": 404})),
    ("lti.platform_edit", "GET"): ("/lti/platforms/new", None, ADMIN_PAGE),
    ("lti.platform_edit", "POST"): ("/lti/platforms/new", {}, ADMIN_PAGE),
    ("lti.course_action", "POST"): ("/lti/platforms/999/courses", {}, only({"admin": 404})),
    ("lti.keys_rotate", "POST"): ("/lti/keys/rotate", {}, ADMIN_ACTION),
    ("lti.outbox_send", "POST"): ("/lti/outbox/send", {}, ADMIN_ACTION),
}


def _routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_matrix(app):
    routes = _routes(app)
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes without an authorisation decision: {sorted(missing)}"
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


@pytest.fixture()
def world(app, make_user, make_team, now, db, tmp_path, monkeypatch):
    """One person per role, plus a target agent in another team with a notification."""
    home = make_team("Home team")
    other = make_team("Other team")
    actors = {role.value: make_user(role, team=home) for role in Role}
    target = make_user(Role.AGENT, team=other, hire_date=date(2024, 1, 1))
    notification = notify(target.id, "Hello", now=now)
    install_defaults(now=now)
    entry = award(Award("quiz.passed", target.id, "matrix", "quiz_attempt", attempt=1),
                  now=now).entry
    rule = entry.rule_id
    qa = _qa_world(target, actors["qa_analyst"], now, db)
    monkeypatch.setitem(app.config, "SCENARIO_UPLOAD_DIR", str(tmp_path / "recordings"))
    scenario = _scenario_world(target, now)
    training = _training_world(target, now)
    db.session.commit()
    return {"actors": actors, "target": target.id, "team": other.id,
            "notification": notification.id, "rule": rule, "entry": entry.id, **qa,
            **scenario, **training}


def _training_world(target, now) -> dict:
    """A question, the quiz MX, the lesson L-MX and the path P-MX; the target is enrolled,
    has read the lesson (the path is complete) and has an attempt in progress."""
    from app.training import importers, paths, quizzes
    plan = importers.plan_gift("$CATEGORY: matrix\n::MX-1:: 95598 是哪家的服务热线？"
                               "{=国家电网 ~中国移动}\n", "matrix.gift")
    importers.apply_gift(plan, filename="matrix.gift", actor_id=None, now=now)
    importers.save_quiz({"code": "MX", "title": {"zh": "矩阵", "en": "Matrix"},
                         "questions": ["MX-1"]}, now=now)
    importers.save_lesson({"code": "L-MX", "lang": "zh", "title": "矩阵", "quiz": "MX",
                           "markdown": "# 矩阵\n正文"}, now=now)
    importers.save_path({"code": "P-MX", "title": {"zh": "矩阵", "en": "Matrix"},
                         "items": [{"code": "A", "kind": "lesson", "ref": "L-MX",
                                    "title": {"zh": "课", "en": "Lesson"}, "due_days": 1}]},
                        now=now)
    paths.enrol("P-MX", [target.id], source="individual", actor_id=None, now=now)
    paths.mark_lesson_read("L-MX", target.id, now=now)
    attempt = quizzes.start_attempt("MX", target, now=now)
    return {"attempt": attempt.id, "question": attempt.questions[0]["question_id"]}


def _scenario_world(target, now) -> dict:
    """S01 imported; the target at stage 3 with a recording of the re-enactment."""
    from app.scenarios import importers
    from app.scenarios import services as scenario_services
    from tests.scenarios.conftest import key_marks, upload, walk_reverse
    library = importers.shipped_library()
    plan = importers.plan_import([("S01.yaml",
                                   (library / "S01-fallen-power-line.yaml").read_bytes())])
    importers.apply_import(plan, actor_id=None, now=now)
    progress = scenario_services.start_scenario(target.id, "S01", now=now)
    scenario_services.submit_case(progress.id, key_marks(progress.version.content),
                                  actor_id=target.id, now=now)
    walk_reverse(progress, target.id, now)
    recording = upload(progress, target.id, now)
    return {"progress": progress.id, "recording": recording.id}


def _qa_world(target, analyst, now, db) -> dict:
    """A scorecard, an import with one evaluation of the target, and the target's dispute."""
    version = scorecards.save_scorecard(
        None, code="matrix", name_en="Matrix", name_zh="矩阵", channel="phone",
        criteria=scorecards.PHONE_CRITERIA, actor_id=None, now=now)
    done = QaImport(source="matrix", filename="matrix.csv", sha256="0" * 64, layout="summary",
                    rows=1, new=1, unchanged=0, changed=0, imported_by_id=analyst.id,
                    imported_at=now)
    db.session.add(done)
    db.session.flush()
    [evaluation_id] = qa_services.record_evaluations([qa_services.EvaluationRow(
        external_id="M-1", user_id=target.id, scorecard_version_id=version.id,
        evaluated_at=now, channel="phone", evaluator="", score=88.0, is_critical_fail=False,
        comment="", fingerprint="x")], source="matrix", import_id=done.id,
        actor_id=analyst.id, now=now)
    dispute = qa_services.raise_dispute(evaluation_id, reason="The greeting was there.",
                                        actor_id=target.id, now=now)
    return {"scorecard": version.scorecard_id, "qa_import": done.id,
            "evaluation": evaluation_id, "dispute": dispute.id}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[1]} {r[0]}")
def test_route_answers_each_role_as_decided(app, world, route):
    template, data, expected = MATRIX[route]
    url = template.format(**{key: value for key, value in world.items() if key != "actors"})
    for actor in ACTORS:
        client = app.test_client()
        if actor != "anonymous":
            user = world["actors"][actor]
            signed_in = client.post("/login", data={"login": user.employee_number,
                                                    "password": "correct-horse-1"})
            assert signed_in.status_code == 302
        if route[1] == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data=data or {})
        assert response.status_code == expected[actor], (
            f"{route[1]} {url} as {actor}: got {response.status_code}, "
            f"expected {expected[actor]}")
        public = {("main.index", "GET"), ("main.language_set", "POST")}
        if actor == "anonymous" and expected[actor] == 302 and route not in public:
            assert "/login" in response.headers["Location"]
