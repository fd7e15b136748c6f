"""`flask demo load`: the demo centre, loaded idempotently (a second run changes nothing)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.demo.incentives import (
    close_past_months,
    demo_awards,
    load_incentives,
    load_rewards_and_honours,
)
from app.demo.lti import load_lti
from app.demo.people import DEMO_PASSWORD, load_people, plan_people
from app.demo.qa import MONTHS as QA_MONTHS
from app.demo.qa import load_qa
from app.demo.scenarios import load_scenarios
from app.demo.training import load_training

demo_cli = AppGroup("demo", help="The demo centre.")


@demo_cli.command("load")
def load() -> None:
    """Load the demo centre: teams, people, mentors, leavers. Safe to run again."""
    now = utcnow()
    today = now.astimezone(centre_tz()).date()
    total = len(plan_people(today)[0])
    with click.progressbar(length=total, label="People", show_pos=True) as bar:
        created = load_people(today, now, bar.update)
    db.session.commit()
    awards = demo_awards(today)
    with click.progressbar(length=len(awards), label="Points history", show_pos=True) as bar:
        created.update(load_incentives(awards, today, now, bar.update))
    db.session.commit()
    with click.progressbar(length=QA_MONTHS, label="QA imports", show_pos=True) as bar:
        created.update(load_qa(today, now, bar.update))
    with click.progressbar(length=4, label="Training room", show_pos=True) as bar:
        created.update(load_scenarios(today, now, bar.update))
    db.session.commit()
    with click.progressbar(length=3, label="Training", show_pos=True) as bar:
        created.update(load_training(today, now, bar.update))
    db.session.commit()
    created.update(load_lti(today, now))
    created.update(load_rewards_and_honours(today, now))
    created["closed_months"] = close_past_months(today, now)
    db.session.commit()
    if not any(created.values()):
        click.echo("The demo centre is already loaded; nothing changed.")
        return
    click.echo("Demo centre loaded: " + ", ".join(f"{k}={v}" for k, v in created.items()))
    click.echo(f"Every demo login uses the password {DEMO_PASSWORD!r}; see the README.")
