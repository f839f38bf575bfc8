"""``python -m app up|down|status``: the organisations' gateways (see ``app/launcher.py``)."""

from __future__ import annotations

from pathlib import Path

import click

from . import launcher
from .config import PROJECT_ROOT

_home = click.option("--instance", type=click.Path(path_type=Path), envvar="SUPPLYCHAIN_INSTANCE_PATH",
                     default=PROJECT_ROOT / "instance", show_default=True, help="gateways' databases, secrets, logs")
_network = click.option("--network-home", type=click.Path(path_type=Path), envvar="NETWORK_HOME",
                        default=PROJECT_ROOT / "network" / "run", show_default=True)
_port = click.option("--base-port", type=int, envvar="GATEWAY_BASE_PORT", default=8000, show_default=True,
                     help="organisation i listens on base + i")  # fmt: skip


@click.group()
def main() -> None:
    """The organisations' gateways: web portal and REST API, one process per organisation."""


@main.command()
@_home
@_network
@_port
def up(instance: Path, network_home: Path, base_port: int) -> None:
    """Start the gateways and make sure each organisation has an admin user."""
    for gateway in launcher.gateways(instance, network_home, base_port):
        started = launcher.up(gateway)
        password = launcher.ensure_admin(gateway)
        click.echo(f"{gateway.org:<10} {gateway.url}/portal/  ({'started' if started else 'already running'}; "
                   f"sign in as {launcher.ADMIN} / {password})")  # fmt: skip
    click.echo(f"API docs: {launcher.gateways(instance, network_home, base_port)[0].url}/api/docs")


@main.command()
@_home
@_network
@_port
def down(instance: Path, network_home: Path, base_port: int) -> None:
    """Stop the gateways."""
    for gateway in launcher.gateways(instance, network_home, base_port):
        click.echo(f"{gateway.org:<10} {'stopped' if launcher.down(gateway) else 'was not running'}")


@main.command()
@_home
@_network
@_port
def status(instance: Path, network_home: Path, base_port: int) -> None:
    """Which gateways run, and where."""
    for gateway in launcher.gateways(instance, network_home, base_port):
        click.echo(f"{gateway.org:<10} {gateway.url}  {'running' if launcher.is_running(gateway) else 'stopped'}")


if __name__ == "__main__":
    main()
