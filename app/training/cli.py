"""`flask quiz …` and `flask training …`: GIFT in and out, the shipped library, enrolment —
the same importers and services as the trainer's pages."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.database import db, utcnow
from app.errors import DomainError
from app.training import importers, paths

quiz_cli = AppGroup("quiz", help="The question bank: import and export Moodle GIFT files.")
training_cli = AppGroup("training", help="Training content and enrolment.")


@quiz_cli.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", default="", help="Category for questions before any $CATEGORY.")
def import_gift(file: Path, category: str) -> None:
    """Import a GIFT file, all or nothing; importing it again changes nothing."""
    try:
        text = file.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file.name} is not UTF-8 text.") from exc
    plan = importers.plan_gift(text, file.name, category=category)
    if plan.errors:
        for error in plan.errors:
            click.echo(error.english(), err=True)
        raise click.ClickException(f"{len(plan.errors)} error(s); nothing was imported.")
    counts = importers.apply_gift(plan, filename=file.name, actor_id=None, now=utcnow())
    db.session.commit()
    click.echo(f"Questions: {counts['new']} new, {counts['changed']} changed, "
               f"{counts['unchanged']} unchanged.")


@quiz_cli.command("export-gift")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None)
@click.option("--category", default=None)
def export_gift(target: Path | None, lang: str | None, category: str | None) -> None:
    """Write the bank (or a language, or a category) as GIFT, to TARGET or stdout."""
    text = importers.export_gift(lang=lang, category=category)
    if target is None:
        click.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {target}.")


@training_cli.command("install-library")
def install_library() -> None:
    """Install or update the shipped question bank, lessons, quizzes and paths."""
    try:
        counts = importers.install_library(now=utcnow())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(", ".join(f"{k}={v}" for k, v in counts.items()))


@training_cli.command("enrol")
@click.argument("path_code")
@click.option("--cohort", required=True, help="The hire month, YYYY-MM.")
def enrol(path_code: str, cohort: str) -> None:
    """Enrol an onboarding cohort in a learning path."""
    try:
        added = paths.enrol_cohort(path_code, cohort, actor_id=None, now=utcnow())
    except DomainError as exc:
        raise click.ClickException(exc.message % exc.params) from exc
    db.session.commit()
    click.echo(f"{added} enrolled.")
