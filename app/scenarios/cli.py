"""`flask scenarios …`: import scenario files (a file or a folder), validate without storing,
export a scenario's file — the same importer as the trainer's upload."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.database import db, utcnow
from app.scenarios import importers, queries

scenarios_cli = AppGroup("scenarios", help="The training room's scenarios: import, validate, "
                                           "export.")


def _plan(path: Path) -> importers.ImportPlan:
    files = importers.files_in(path)
    if not files:
        raise click.ClickException(f"No scenario files (*.yaml) at {path}.")
    media_dir = path if path.is_dir() else path.parent
    click.echo(f"Validating {len(files)} file(s)…", err=True)
    return importers.plan_import(files, media_dir=media_dir)


def _report_errors(plan: importers.ImportPlan) -> None:
    for filename, error in plan.errors:
        click.echo(f"{filename}: {error.english()}", err=True)
    raise click.ClickException(f"{len(plan.errors)} error(s); nothing was imported.")


@scenarios_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    """Import the scenario file at PATH, or every *.yaml in the folder PATH. All or nothing."""
    plan = _plan(path)
    if plan.errors:
        _report_errors(plan)
    counts = importers.apply_import(plan, actor_id=None, now=utcnow())
    db.session.commit()
    click.echo(f"Scenarios: {counts['new']} new, {counts['new_version']} new versions, "
               f"{counts['unchanged']} unchanged.")


@scenarios_cli.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def validate_command(path: Path) -> None:
    """Check scenario files without storing anything."""
    plan = _plan(path)
    if plan.errors:
        _report_errors(plan)
    click.echo(f"{len(plan.files)} file(s) valid.")


@scenarios_cli.command("export")
@click.argument("code")
@click.argument("target", type=click.Path(path_type=Path), required=False)
def export_command(code: str, target: Path | None) -> None:
    """Write the current version of scenario CODE as a file (to TARGET, else stdout)."""
    scenario = queries.get_scenario(code)
    if scenario is None:
        raise click.ClickException(f"There is no scenario {code}.")
    from app.scenarios.services import current_version
    source = current_version(scenario).source
    if target is None:
        click.echo(source, nl=False)
    else:
        target.write_text(source, encoding="utf-8")
        click.echo(f"Wrote {target}.")
