"""Covering indexes for open work by due time: the board and the partners' tab counts read
state, due time, pause and agency from the index alone, with no row fetched per referral.

Revision ID: 5b2f0c9e7a11
Revises: 165d5e218c28
Create Date: 2026-11-21 13:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b2f0c9e7a11'
down_revision = '165d5e218c28'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_due')
        batch_op.drop_index('ix_referrals_agency_due')
        batch_op.create_index(
            'ix_referrals_due', ['state', 'due_at', 'paused_at', 'agency_id'], unique=False
        )
        batch_op.create_index(
            'ix_referrals_agency_due', ['agency_id', 'state', 'due_at', 'paused_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_agency_due')
        batch_op.drop_index('ix_referrals_due')
        batch_op.create_index(
            'ix_referrals_agency_due', ['agency_id', 'state', 'due_at'], unique=False
        )
        batch_op.create_index('ix_referrals_due', ['state', 'due_at'], unique=False)
