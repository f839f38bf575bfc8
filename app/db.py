"""The gateway's SQLite database, the flaskr way: one connection per request on ``g``, closed on teardown."""

from __future__ import annotations

import sqlite3

import click
from flask import Flask, current_app, g


def get_db() -> sqlite3.Connection:
    """This request's connection (rows as ``sqlite3.Row``, foreign keys on)."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def connect(path: str) -> sqlite3.Connection:
    """A connection that waits for a concurrent writer instead of failing at once."""
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    return db


def close_db(_error=None) -> None:
    """Close this request's connection, if it opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db(path: str) -> None:
    """Create the tables that do not exist yet (safe to run on every start)."""
    with current_app.open_resource("schema.sql") as schema:
        db = connect(path)
        try:
            db.executescript(schema.read().decode())
        finally:
            db.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create the gateway's tables."""
    init_db(current_app.config["DATABASE"])
    click.echo(f"database ready: {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    """Register teardown and the ``init-db`` command, and make sure the tables exist."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
    with app.app_context():
        init_db(app.config["DATABASE"])
