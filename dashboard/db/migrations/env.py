"""Alembic environment for the history database; run with a connection in ``config.attributes``."""

from alembic import context

from dashboard.db.tables import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
