"""`flask leaderboard close YYYY-MM`: the same service as the button."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.database import db, utcnow
from app.leaderboard.queries import all_board_specs
from app.leaderboard.services import MonthError, close_month

leaderboard_cli = AppGroup("leaderboard", help="Monthly leaderboards.")


@leaderboard_cli.command("close")
@click.argument("period")
def close(period: str) -> None:
    """Close a month whose grace has passed: snapshot every board, propose the Service Stars."""
    try:
        total = len(all_board_specs(period))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    with click.progressbar(length=total, label=f"Boards of {period}", show_pos=True) as bar:
        try:
            count = close_month(period, actor_id=None, now=utcnow(), progress=bar.update)
        except MonthError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"{period} is closed: {count} boards stored.")
