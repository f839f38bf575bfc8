"""Commands of a gateway process: ``flask --app app <command>`` (with ``SUPPLYCHAIN_ORG`` naming the organisation)."""

from __future__ import annotations

import click
from flask import Flask

from . import users


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(users.ROLES), default="operator", show_default=True)
@click.password_option(envvar="SUPPLYCHAIN_NEW_USER_PASSWORD")
def create_user_command(username: str, role: str, password: str) -> None:
    """Register USERNAME with the organisation's CA and store it (the first admin is made this way)."""
    try:
        user = users.create_user(username, password, role)
    except users.UserError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created {user.username} ({user.role}), enrolled as {user.enrollment_id}")


def init_app(app: Flask) -> None:
    """Attach the commands."""
    app.cli.add_command(create_user_command)
