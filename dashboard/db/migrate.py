"""Prepare the history database before a production start: create it if missing, then migrate.

``python -m dashboard.db.migrate`` (URL from OPSCENTER_DATABASE_URL) runs once before the
pollers and web workers start, so they never race to create the schema.
"""

from __future__ import annotations

import os
import sys

import sqlalchemy as sa

from dashboard.db.history import History


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database ``url`` names when it does not exist; True when created."""
    target = sa.engine.make_url(url)
    if not target.get_backend_name().startswith("postgresql"):
        return False
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
        return not exists
    finally:
        admin.dispose()


def main() -> int:
    url = os.environ.get("OPSCENTER_DATABASE_URL")
    if not url:
        print("OPSCENTER_DATABASE_URL is not set", file=sys.stderr)
        return 2
    created = ensure_database(url)
    history = History(url)
    history.migrate()
    history.close()
    print(f"database {sa.engine.make_url(url).database}: {'created and ' if created else ''}migrated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
