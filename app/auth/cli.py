"""`flask users …`: the same services as the views."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth.roles import CareerLevel, Role
from app.auth.services import PeopleError, create_user
from app.centre.periods import centre_tz
from app.database import db, utcnow

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
