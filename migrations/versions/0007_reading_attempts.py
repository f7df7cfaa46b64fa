"""inbox items count their reading attempts

Revision ID: 0007_reading_attempts
Revises: 0006_auth_sessions
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_reading_attempts'
down_revision = '0006_auth_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("read_attempts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_column("read_attempts")
