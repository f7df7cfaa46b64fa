"""sender ownership: a number or Messaging Service belongs to one team console-wide;
inbound bodies longer than Twilio's limit are kept truncated and flagged

Revision ID: 0008_sender_ownership
Revises: 0007_reading_attempts
Create Date: 2026-12-01 10:00:00

Where teams share an address, the first team created keeps it. A shared sandbox number
gives the other teams fictional numbers of their own; a shared real one is taken from
the other teams' senders, which are paused saying why (their history stays).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_sender_ownership"
down_revision = "0007_reading_attempts"
branch_labels = None
depends_on = None

# As console.services.sending.policy.sandbox_numbers has them, frozen for this migration.
SANDBOX_AREA_CODES = ("512", "737", "210", "214", "469", "713", "832", "281", "817", "972")

senders = sa.table(
    "senders",
    sa.column("id", sa.Integer),
    sa.column("team_id", sa.Integer),
    sa.column("address", sa.String),
    sa.column("sandbox", sa.Boolean),
    sa.column("paused", sa.Boolean),
    sa.column("paused_reason", sa.Text),
)


def _sandbox_numbers():
    for area in SANDBOX_AREA_CODES:
        for line in range(100, 200):
            yield f"+1{area}555{line:04d}"


def _release_shared_addresses(conn) -> None:
    """One team per address: the first team created keeps it."""
    rows = conn.execute(
        sa.select(senders.c.id, senders.c.address, senders.c.sandbox).order_by(
            senders.c.address, senders.c.team_id, senders.c.id
        )
    ).all()
    taken = {row.address for row in rows}
    free = (n for n in _sandbox_numbers() if n not in taken)
    kept = set()
    for row in rows:
        if row.address not in kept:
            kept.add(row.address)
            continue
        if row.sandbox:
            values = {"address": next(free, f"released-{row.id}")}
        else:
            values = {
                "address": f"released-{row.id}",
                "paused": True,
                "paused_reason": (
                    f"{row.address} belongs to another team (one team per number); "
                    "give this sender a number of your own."
                ),
            }
        conn.execute(senders.update().where(senders.c.id == row.id).values(**values))


def upgrade():
    _release_shared_addresses(op.get_bind())
    with op.batch_alter_table("senders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_senders_team_id_address", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_senders_address"), ["address"])

    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("body_truncated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("attach_attempts", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("attach_attempts")
        batch_op.drop_column("body_truncated")

    with op.batch_alter_table("senders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_senders_address"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_senders_team_id_address"), ["team_id", "address"]
        )
