"""`flask users …`: the same services as the views."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.auth.importers import RosterImportError, apply_roster, plan_roster
from app.auth.roles import CareerLevel, Role
from app.auth.services import PeopleError, create_user
from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.imports import describe_row_error

users_cli = AppGroup("users", help="People: create an admin, import a roster.")


@users_cli.command("create-admin")
@click.option("--employee-number", required=True, help="The admin's employee number (工号).")
@click.option("--name", required=True)
@click.option("--email", default=None)
@click.password_option(help="At least 8 characters.")
def create_admin(employee_number: str, name: str, email: str | None, password: str) -> None:
    """Create an administrator who can sign in and manage everybody else."""
    now = utcnow()
    try:
        user = create_user(
            employee_number=employee_number, name=name, email=email, password=password,
            hire_date=now.astimezone(centre_tz()).date(),
            career_level=CareerLevel.SUPERVISOR.value, roles=[Role.ADMIN], actor_id=None, now=now,
        )
    except PeopleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created admin {user.employee_number} ({user.name}).")


@users_cli.command("import")
@click.argument("path", metavar="FILE",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_roster_file(path: Path) -> None:
    """Import a roster from HR (CSV or XLSX): all of it, or nothing and a list of problems."""
    now = utcnow()
    try:
        plan = plan_roster(path.read_bytes(), path.name, actor_id=None, now=now)
        with click.progressbar(length=len(plan.rows), label="Importing") as bar:
            result = apply_roster(plan, actor_id=None, now=now, progress=bar.update)
    except RosterImportError as error:
        db.session.rollback()
        for problem in error.errors:
            click.echo(describe_row_error(problem), err=True)
        raise click.ClickException(
            f"Nothing was imported: {len(error.errors)} problem(s) found.") from error
    db.session.commit()
    click.echo(f"Rows: {result.rows}, created: {result.created}, updated: {result.updated}, "
               f"unchanged: {result.unchanged}.")
