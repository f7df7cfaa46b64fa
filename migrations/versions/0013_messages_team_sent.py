"""messages by team and time sent: the reports read a team's texts sent in a range

Revision ID: 0013_messages_team_sent
Revises: 0012_report_costs
Create Date: 2026-12-05 20:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_messages_team_sent"
down_revision = "0012_report_costs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_team_sent", ["team_id", "sent_at"], unique=False)


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_team_sent")
