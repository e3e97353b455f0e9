"""What a failing evidence rule found: ``maturity_evidence.findings``, JSON text, NULL in older rows.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("maturity_evidence", sa.Column("findings", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("maturity_evidence", "findings")
