"""`flask lti …`: register a platform, send the outboxes (cron), pull a course roster, rotate
the tool's key — the same services as the admin's pages."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.database import db, utcnow
from app.errors import DomainError
from app.lti import keys, services, xapi
from app.lti.models import Platform

lti_cli = AppGroup("lti", help="The LMS plug-in (LTI 1.3) and xAPI.")


@lti_cli.command("add-platform")
@click.option("--name", required=True)
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--instructors-become", default="trainer",
              type=click.Choice(["trainer", "team_lead"]))
def add_platform(name, issuer, client_id, auth_login_url, auth_token_url, key_set_url,
                 deployment_ids, instructors_become) -> None:
    """Register a learning platform; print the values it needs."""
    try:
        platform = services.save_platform(
            platform_id=None, name=name, issuer=issuer, client_id=client_id,
            auth_login_url=auth_login_url, auth_token_url=auth_token_url,
            key_set_url=key_set_url, deployment_ids=list(deployment_ids),
            instructor_role=instructors_become, actor_id=None, now=utcnow())
    except DomainError as exc:
        raise click.ClickException(exc.message % exc.params) from exc
    db.session.commit()
    click.echo(f"Platform {platform.id} registered. Give it: OIDC login URL /lti/login, "
               "launch URL /lti/launch, JWKS URL /lti/jwks (on this site's address).")


@lti_cli.command("send")
def send() -> None:
    """Send the due scores and xAPI statements (run it from cron, e.g. every minute)."""
    now = utcnow()
    grades = services.publish_pending(now=now)
    db.session.commit()
    statements = xapi.deliver_pending(now=now)
    db.session.commit()
    click.echo(f"scores sent={grades['sent']} failed={grades['failed']}; "
               f"statements {statements}")


@lti_cli.command("sync-roster")
@click.argument("platform_id", type=int)
@click.argument("context_id")
@click.argument("memberships_url")
def sync_roster(platform_id: int, context_id: str, memberships_url: str) -> None:
    """Pull a course's members (NRPS) into Pinwheel."""
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise click.ClickException(f"There is no platform {platform_id}.")
    counts = services.sync_roster(platform, memberships_url, context_id, now=utcnow())
    db.session.commit()
    click.echo(f"members={counts['members']} created={counts['created']}")


@lti_cli.command("rotate-key")
def rotate_key() -> None:
    """Sign with a new key from now on; the old one stays in the JWKS for a week."""
    key = keys.rotate(actor_id=None, now=utcnow())
    db.session.commit()
    click.echo(f"New signing key {key.kid}.")
