"""``python -m app up|down|status``: the organisations' gateways (see ``app/launcher.py``)."""

from __future__ import annotations

from pathlib import Path

import click

from . import demo as demo_module, launcher
from .config import PROJECT_ROOT

_home = click.option("--instance", type=click.Path(path_type=Path), envvar="SUPPLYCHAIN_INSTANCE_PATH",
                     default=PROJECT_ROOT / "instance", show_default=True, help="gateways' databases, secrets, logs")
_network = click.option("--network-home", type=click.Path(path_type=Path), envvar="NETWORK_HOME",
                        default=PROJECT_ROOT / "network" / "run", show_default=True)
_base_port = click.option("--base-port", type=int, envvar="GATEWAY_BASE_PORT", default=8000, show_default=True,
                     help="organisation i listens on base + i")  # fmt: skip


def _where(command):
    """The options that locate the gateways: instance folder, network home, base port."""
    return _home(_network(_base_port(command)))


@click.group()
def main() -> None:
    """The organisations' gateways: web portal and REST API, one process per organisation."""


@main.command()
@_where
@click.option("--demo/--no-demo", default=True, show_default=True, help="record the demo story (once)")
def up(instance: Path, network_home: Path, base_port: int, demo: bool) -> None:
    """Start the gateways, make sure each organisation has an admin user, record the demo story."""
    processes = launcher.gateways(instance, network_home, base_port)
    lines = []
    for gateway in processes:
        started = launcher.up(gateway)
        password = launcher.ensure_admin(gateway)
        lines.append(f"{gateway.org:<10} {gateway.url}/portal/  sign in as {launcher.ADMIN} / {password}  "
                     f"({'started' if started else 'already running'})")  # fmt: skip
    if demo:
        for done in launcher.seed_demo(processes):
            click.echo(f"demo: {done}")
    click.echo("\n".join(lines))
    click.echo(f"API docs: {processes[0].url}/api/docs   Consumer check of a sold carton: "
               f"{processes[3].url}/01/{demo_module.CARTON_GTIN}/21/C001")


@main.command()
@_where
def down(instance: Path, network_home: Path, base_port: int) -> None:
    """Stop the gateways."""
    for gateway in launcher.gateways(instance, network_home, base_port):
        click.echo(f"{gateway.org:<10} {'stopped' if launcher.down(gateway) else 'was not running'}")


@main.command()
@_where
def status(instance: Path, network_home: Path, base_port: int) -> None:
    """Which gateways run, and where."""
    for gateway in launcher.gateways(instance, network_home, base_port):
        click.echo(f"{gateway.org:<10} {gateway.url}  {'running' if launcher.is_running(gateway) else 'stopped'}")


if __name__ == "__main__":
    main()
