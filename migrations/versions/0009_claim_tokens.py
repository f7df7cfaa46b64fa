"""claim tokens: every claim of an outbound message carries its holder's token

Revision ID: 0009_claim_tokens
Revises: 0008_sender_ownership
Create Date: 2026-12-05 11:30:00

A worker that stalls past its lease loses its claim: the reconciler replaces the token,
and every later write of the stale holder is conditional on the token it had.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_claim_tokens"
down_revision = "0008_sender_ownership"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claim_token")
