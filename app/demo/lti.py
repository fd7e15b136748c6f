"""The demo centre's LMS plug-in: a Moodle registered (as a centre would do it), with one
course mapped to this month's onboarding cohort, so the admin's page shows it in use."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from app.database import db
from app.lti import services
from app.lti.models import Platform


def load_lti(today: date, now: datetime) -> dict:
    if db.session.scalar(select(func.count(Platform.id))):
        return {"lms_platforms": 0}
    platform = services.save_platform(
        platform_id=None, name="Moodle (培训中心)", issuer="https://moodle.pinwheel-demo.example",
        client_id="pinwheel-demo-tool",
        auth_login_url="https://moodle.pinwheel-demo.example/mod/lti/auth.php",
        auth_token_url="https://moodle.pinwheel-demo.example/mod/lti/token.php",
        key_set_url="https://moodle.pinwheel-demo.example/mod/lti/certs.php",
        deployment_ids=["1"], instructor_role="trainer", actor_id=None, now=now)
    platform.contexts = {"onboarding-101": {"title": "新员工入职培训 / New-agent onboarding",
                                            "cohort": f"{today:%Y-%m}"}}
    db.session.flush()
    return {"lms_platforms": 1}
