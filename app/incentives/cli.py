"""`flask points …` and `flask incentives …`: the same services as the pages."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.database import db, utcnow
from app.incentives.services import install_defaults, verify_rollups

points_cli = AppGroup("points", help="The points ledger.")
incentives_cli = AppGroup("incentives", help="The incentive windmill's set-up.")


@points_cli.command("verify")
def verify() -> None:
    """Recompute every rollup and balance from the ledger, check what the boards keep of the
    people (roles, teams, dates), and report any difference."""
    differences = verify_rollups()
    if not differences:
        click.echo("The rollups and balances match the ledger.")
        return
    for d in differences:
        click.echo(f"user {d['user_id']}, {d['period']}, {d['blade']}: ledger {d['ledger']}, "
                   f"rollup {d['rollup']}", err=True)
    raise SystemExit(f"{len(differences)} difference(s) between the ledger and the rollups")


@incentives_cli.command("install-defaults")
def install() -> None:
    """Add the shipped rules, level ladder and badges that are missing (never changes edits)."""
    added = install_defaults(now=utcnow())
    db.session.commit()
    click.echo("Defaults installed: " + ", ".join(f"{k}={v}" for k, v in added.items()))
