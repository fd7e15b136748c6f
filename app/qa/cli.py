"""`flask qa …`: the QA import, confirming evaluations after their dispute window, the default
scorecards — the same services as the views."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Permission
from app.auth.rules import normalise_employee_number
from app.database import db, utcnow
from app.errors import DomainError
from app.imports import describe_row_error
from app.qa import importers, services
from app.qa.scorecards import install_default_scorecards

qa_cli = AppGroup("qa", help="QA results: import call-review exports, confirm evaluations "
                             "after their dispute window, install the default scorecards.")

STEPS = {"read": "reading the file", "check": "checking every row",
         "compare": "comparing with earlier imports", "write": "writing evaluations and points",
         "correct": "correcting changed evaluations", "commit": "committing"}


class _Steps:
    """Each step of a long import on stderr, with the time the previous one took."""

    def __init__(self):
        self.started = self.last = time.perf_counter()
        self.name: str | None = None

    def __call__(self, name: str) -> None:
        self._close()
        self.name, self.last = name, time.perf_counter()
        click.echo(f"… {STEPS.get(name, name)}", err=True, nl=False)

    def _close(self) -> None:
        if self.name is not None:
            click.echo(f" ({time.perf_counter() - self.last:.1f} s)", err=True)
            self.name = None

    def done(self) -> None:
        self._close()


def _analyst(employee_number: str) -> User:
    person = db.session.scalar(select(User).where(
        User.employee_number == normalise_employee_number(employee_number)))
    if person is None or not person.is_active:
        raise click.ClickException(f"Nobody active has the employee number {employee_number}.")
    if not person.can(Permission.USE_QA):
        raise click.ClickException(f"{person.employee_number} may not import QA results.")
    return person


@qa_cli.command("import")
@click.argument("path", metavar="FILE",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True,
              help="The call-review tool: evaluation ids are unique per source, and its saved "
                   "column mapping is used.")
@click.option("--by", "by", required=True, metavar="EMPLOYEE_NUMBER",
              help="The QA analyst in whose name the results are imported.")
@click.option("--dry-run", is_flag=True, help="Check and count only; write nothing.")
def import_results(path: Path, source: str, by: str, dry_run: bool) -> None:
    """Import a call-review tool's export (CSV or XLSX): all of it, or nothing and a list of
    problems."""
    analyst = _analyst(by)
    now = utcnow()
    steps = _Steps()
    plan = importers.plan_import(path.read_bytes(), path.name, source=source, now=now,
                                 progress=steps)
    steps.done()
    click.echo(f"Layout: {plan.layout or '-'}. Rows read: {plan.rows}, new: {plan.new}, "
               f"unchanged: {plan.unchanged}, changed: {plan.changed}, "
               f"errors: {len(plan.errors)}.")
    if plan.errors:
        db.session.rollback()
        for problem in plan.errors:
            click.echo(describe_row_error(problem), err=True)
        raise click.ClickException(
            f"Nothing was imported: {len(plan.errors)} problem(s) found.")
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was written.")
        return
    if not plan.new and not plan.changed:
        db.session.rollback()
        click.echo("Nothing to import: every evaluation in the file is imported as it is.")
        return
    try:
        done = importers.apply_import(plan, filename=path.name, actor_id=analyst.id, now=now,
                                      progress=steps)
        steps("commit")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    except Exception:
        db.session.rollback()
        raise
    finally:
        steps.done()
    click.echo(f"Imported {done.new} new and corrected {done.changed} evaluations "
               f"(import {done.id}) in {time.perf_counter() - steps.started:.1f} s.")


@qa_cli.command("confirm-due")
def confirm_due() -> None:
    """Confirm the evaluations whose dispute window has ended: their points count (run it
    from cron, e.g. hourly)."""
    count = services.confirm_due(now=utcnow())
    db.session.commit()
    click.echo(f"Confirmed {count} evaluation(s).")


@qa_cli.command("install-defaults")
def install_defaults() -> None:
    """Add the default phone and chat scorecards that are missing."""
    added = install_default_scorecards(now=utcnow())
    db.session.commit()
    click.echo(f"Installed {added} default scorecard(s).")


__all__ = ["qa_cli"]
