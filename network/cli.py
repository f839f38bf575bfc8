"""The command line: ``python -m network up|down|status|logs|clean|deploy|build``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import binaries
from .binaries import BuildError
from .chaincode import DeployError
from .channel import ChannelError
from .controller import Network, NetworkError
from .identities import EnrollmentError
from .processes import NodeError
from .topology import TopologyError

console = Console(stderr=True)
EXPECTED = (NetworkError, BuildError, DeployError, ChannelError, EnrollmentError, NodeError, TopologyError)


def _progress(status):
    started = time.monotonic()

    def report(step: str) -> None:
        elapsed = time.monotonic() - started
        console.log(f"[dim]{elapsed:6.1f}s[/] {escape(step)}")
        status.update(f"{step} ...")

    return report


@click.group()
@click.option("--home", type=click.Path(path_type=Path), envvar="NETWORK_HOME",
              help="Folder of the network's files (default: network/run).")
@click.option("--base-port", type=int, envvar="NETWORK_BASE_PORT",
              help="First port; every node's ports derive from it (default: topology.yaml).")
@click.pass_context
def main(ctx: click.Context, home: Path | None, base_port: int | None) -> None:
    """A Fabric 2.5 consortium network (Producer, Retailer, Logistics, Regulator) as native processes."""
    ctx.obj = {"home": home, "base_port": base_port}


def _network(ctx: click.Context, report=None) -> Network:
    return Network.open(ctx.obj["home"], ctx.obj["base_port"], report)


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {escape(str(err))}")
    sys.exit(1)


@main.command()
@click.pass_context
def up(ctx: click.Context) -> None:
    """Build what is missing, start every node, create channels, deploy chaincode; wait until usable."""
    try:
        with console.status("starting ...") as status:
            net = _network(ctx, _progress(status))
            result = net.up()
    except EXPECTED as err:
        _fail(err)
    cc = result["chaincode"]
    console.print(
        f"[bold green]network is up[/] in {result['seconds']} s: chaincode {net.topology.chaincode.name} "
        f"version {cc['version']} sequence {cc['sequence']} on {net.topology.chaincode.channel}"
    )
    console.print(f"connection profiles and identities: python -m network --home {net.home} status")


@main.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop every node; ledgers and identities are kept for the next `up`."""
    try:
        stopped = _network(ctx).down()
    except EXPECTED as err:
        _fail(err)
    console.print(f"stopped {len(stopped)} processes" if stopped else "nothing was running")


@main.command()
@click.confirmation_option(prompt="Delete every ledger, key and log of this network?")
@click.pass_context
def clean(ctx: click.Context) -> None:
    """Stop every node and delete the network's ledgers, identities and logs."""
    net = _network(ctx)
    net.clean()
    console.print(f"removed {net.home}")


@main.command()
@click.pass_context
def deploy(ctx: click.Context) -> None:
    """Redeploy the chaincode with the next sequence if its source changed."""
    try:
        with console.status("deploying ...") as status:
            result = _network(ctx, _progress(status)).deploy()
    except EXPECTED as err:
        _fail(err)
    verb = "deployed" if result["changed"] else "unchanged:"
    console.print(f"{verb} version {result['version']} sequence {result['sequence']}")


@main.command()
@click.pass_context
def build(ctx: click.Context) -> None:
    """Build (or find cached) the pinned Fabric and Fabric CA binaries."""
    net = _network(ctx)
    try:
        with console.status("building ...") as status:
            found = binaries.ensure(net.topology, _progress(status))
    except BuildError as err:
        _fail(err)
    console.print(f"binaries in {found.bin}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Each node's health and block heights, the committed chaincode, profiles and identities."""
    try:
        report = _network(ctx).status()
    except EXPECTED as err:
        _fail(err)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"network in {report['home']} (base port {report['base_port']})")
    for col in ("node", "address", "pid", "health", "heights"):
        table.add_column(col)
    for n in report["nodes"]:
        health = "[green]healthy[/]" if n["healthy"] else ("[red]unhealthy[/]" if n["pid"] else "[dim]stopped[/]")
        heights = ", ".join(f"{k}={v}" for k, v in (n.get("heights") or {}).items())
        if n.get("raft_leader"):
            heights += " (leader)"
        table.add_row(n["name"], n["address"], str(n["pid"] or "-"), health, heights)
    Console().print(table)
    cc = report["chaincode"]
    committed = cc["committed"]
    click.echo(
        f"chaincode {cc['name']} on {cc['channel']}: "
        + (f"sequence {committed['sequence']}, version {committed['version']}, policy {committed['endorsement_policy']}"
           if committed else "not committed")
        + ("" if committed and committed["version"] == cc["source_version"] else
           f" (source is {cc['source_version']}: run `deploy`)")
    )  # fmt: skip
    for org, info in report["organizations"].items():
        click.echo(f"{org}: profile {info['connection_profile']}")


@main.command()
@click.argument("node", required=False)
@click.option("-n", "--lines", default=40, show_default=True, help="Lines per log.")
@click.pass_context
def logs(ctx: click.Context, node: str | None, lines: int) -> None:
    """The last lines of NODE's log (every node's without NODE)."""
    try:
        click.echo(_network(ctx).logs(node, lines))
    except EXPECTED as err:
        _fail(err)
