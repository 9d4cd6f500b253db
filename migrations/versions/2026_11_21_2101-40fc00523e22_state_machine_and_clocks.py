"""The desk's own clocks (triage, Operation Encompass share-by) on each incident; the decision
clock and the running clock on each referral; deadline policies per clock; the escalation ladder
per agency kind and per clock; desk escalations; a contact phone number per agency.

Seeds the defaults of each kind's profile (referrals/profiles.py; a test checks that these seeds
and the profiles agree): the police desk's triage deadline (high risk 1 hour, medium 4 working
hours, standard 1 working day), children's social care's decision within 1 working day, no
decision deadline for the other kinds, and the ladder (reminder at the due time, duty manager
+2 and supervisors +4 working hours) for every kind that receives referrals.

Existing rows are carried over: a policy row becomes an acknowledgement policy (the police
desk's row, which set nothing, is dropped), an escalation becomes one of the acknowledgement
clock, the ladder's hours are copied to every kind, an incident's triage deadline is taken as
its receipt (the policy in force then is not known) and its sending as its first referral's.

Revision ID: 40fc00523e22
Revises: 5b2f0c9e7a11
Create Date: 2026-11-21 21:01:51.003781

"""
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '40fc00523e22'
down_revision = '5b2f0c9e7a11'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ENCOMPASS_IN_FORCE = date(2025, 11, 7)
PARTNER_KINDS = ("childrens_social_care", "school", "health", "marac", "other")


def _clock(*values):
    return sa.Enum(*values, name='clock_values', native_enum=False, create_constraint=True,
                   length=40)


def _seed_policies():
    now = datetime.now(UTC)
    policies = sa.table(
        "deadline_policies", sa.column("agency_kind", sa.String), sa.column("clock", sa.String),
        sa.column("risk_grade", sa.String), sa.column("rule_kind", sa.String),
        sa.column("amount", sa.Integer), sa.column("effective_from", sa.Date),
        sa.column("updated_at", UTC_DATETIME),
    )
    rows = [
        ("police_desk", "triage", "high", "elapsed_hours", 1),
        ("police_desk", "triage", "medium", "working_hours", 4),
        ("police_desk", "triage", "standard", "working_days", 1),
        ("childrens_social_care", "decision", None, "working_days", 1),
        ("school", "decision", None, "none", 1),
        ("health", "decision", None, "none", 1),
        ("marac", "decision", None, "none", 1),
        ("other", "decision", None, "none", 1),
    ]
    op.bulk_insert(policies, [
        {"agency_kind": kind, "clock": clock, "risk_grade": grade, "rule_kind": rule,
         "amount": amount, "effective_from": ENCOMPASS_IN_FORCE, "updated_at": now}
        for kind, clock, grade, rule, amount in rows
    ])


def _ladder_per_kind():
    """Copy each step's hours (as administrators left them) to every kind that receives
    referrals; the old rows, which had no kind, go."""
    connection = op.get_bind()
    hours = dict(connection.execute(sa.text(
        "SELECT step, hours_after_due FROM escalation_policies")).all())
    hours = {"reminder": 0, "duty_manager": 2, "supervisor": 4, **hours}
    op.execute("DELETE FROM escalation_policies")
    ladder = sa.table("escalation_policies", sa.column("agency_kind", sa.String),
                      sa.column("step", sa.String), sa.column("hours_after_due", sa.Integer))
    op.bulk_insert(ladder, [
        {"agency_kind": kind, "step": step, "hours_after_due": hours[step]}
        for kind in PARTNER_KINDS for step in ("reminder", "duty_manager", "supervisor")
    ])


def upgrade():
    op.create_table('desk_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.Enum('triage', 'share_by', name='clock_values', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('recipients', sa.String(length=1000), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_desk_escalations_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_escalations')),
    sa.UniqueConstraint('incident_id', 'clock', name=op.f('uq_desk_escalations_incident_id_clock'))
    )
    with op.batch_alter_table('desk_escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_escalations_incident_id'), ['incident_id'], unique=False)

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=30), nullable=True))

    # Deadline policies: one clock each.
    with op.batch_alter_table('deadline_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock', _clock('triage', 'acknowledge', 'decision'), nullable=True))
    op.execute("DELETE FROM deadline_policies WHERE agency_kind = 'police_desk'")
    op.execute("UPDATE deadline_policies SET clock = 'acknowledge'")
    with op.batch_alter_table('deadline_policies', schema=None) as batch_op:
        batch_op.alter_column('clock', existing_type=_clock('triage', 'acknowledge', 'decision'), nullable=False)
        batch_op.alter_column('rule_kind', existing_type=sa.Enum('next_school_day_start', 'working_days', 'working_hours', 'elapsed_hours', name='rule_kind_values', native_enum=False, create_constraint=True, length=40),
                              type_=sa.Enum('next_school_day_start', 'working_days', 'working_hours', 'elapsed_hours', 'none', name='rule_kind_values', native_enum=False, create_constraint=True, length=40),
                              existing_nullable=False)
    _seed_policies()

    # The escalation ladder: per agency kind.
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_kind', sa.Enum('police_desk', 'childrens_social_care', 'school', 'health', 'marac', 'other', name='agency_kind_values', native_enum=False, create_constraint=True, length=40), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_escalation_policies_step'), type_='unique')
    _ladder_per_kind()
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.alter_column('agency_kind', existing_type=sa.Enum('police_desk', 'childrens_social_care', 'school', 'health', 'marac', 'other', name='agency_kind_values', native_enum=False, create_constraint=True, length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_escalation_policies_agency_kind_step'), ['agency_kind', 'step'])

    # Escalations: one clock each (all so far were of the acknowledgement).
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock', _clock('triage', 'acknowledge', 'decision'), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_escalations_referral_id_step'), type_='unique')
    op.execute("UPDATE escalations SET clock = 'acknowledge'")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.alter_column('clock', existing_type=_clock('triage', 'acknowledge', 'decision'), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_escalations_referral_id_clock_step'), ['referral_id', 'clock', 'step'])

    # Incidents: the desk's own clocks.
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triage_due_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('share_by_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('routed_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('triage_late', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('share_late', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('triage_escalated_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('share_escalated_at', UTC_DATETIME, nullable=True))
    op.execute("UPDATE incidents SET triage_due_at = received_at, triage_late = false, share_late = false")
    op.execute("UPDATE incidents SET routed_at = (SELECT min(r.sent_at) FROM referrals r "
               "WHERE r.incident_id = incidents.id) WHERE status <> 'logged'")
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.alter_column('triage_due_at', existing_type=UTC_DATETIME, nullable=False)
        batch_op.alter_column('triage_late', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('share_late', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_index('ix_incidents_triage', ['status', 'triage_due_at', 'id'], unique=False)
        batch_op.create_index('ix_incidents_routed', ['routed_at'], unique=False)

    # Referrals: the decision clock and the clock now running.
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_due_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('decision_rule', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('clock_due_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('share_by_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('shared_late', sa.Boolean(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_referrals_agency_due'))
        batch_op.drop_index(batch_op.f('ix_referrals_due'))
    op.execute("UPDATE referrals SET shared_late = false")
    op.execute("UPDATE referrals SET clock_due_at = due_at WHERE state IN ('sent', 'viewed')")
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.alter_column('shared_late', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_index('ix_referrals_agency_due', ['agency_id', 'state', 'clock_due_at', 'paused_at'], unique=False)
        batch_op.create_index('ix_referrals_due', ['clock_due_at', 'paused_at', 'agency_id'], unique=False)


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_due')
        batch_op.create_index(batch_op.f('ix_referrals_due'), ['state', 'due_at', 'paused_at', 'agency_id'], unique=False)
        batch_op.drop_index('ix_referrals_agency_due')
        batch_op.create_index(batch_op.f('ix_referrals_agency_due'), ['agency_id', 'state', 'due_at', 'paused_at'], unique=False)
        batch_op.drop_column('shared_late')
        batch_op.drop_column('share_by_at')
        batch_op.drop_column('clock_due_at')
        batch_op.drop_column('decision_rule')
        batch_op.drop_column('decision_due_at')

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_routed')
        batch_op.drop_index('ix_incidents_triage')
        batch_op.drop_column('share_escalated_at')
        batch_op.drop_column('triage_escalated_at')
        batch_op.drop_column('share_late')
        batch_op.drop_column('triage_late')
        batch_op.drop_column('routed_at')
        batch_op.drop_column('share_by_at')
        batch_op.drop_column('triage_due_at')

    op.execute("DELETE FROM escalations WHERE clock <> 'acknowledge'")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_escalations_referral_id_clock_step'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_escalations_referral_id_step'), ['referral_id', 'step'])
        batch_op.drop_column('clock')

    op.execute("DELETE FROM escalation_policies WHERE agency_kind <> 'childrens_social_care'")
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_escalation_policies_agency_kind_step'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_escalation_policies_step'), ['step'])
        batch_op.drop_column('agency_kind')

    op.execute("DELETE FROM deadline_policies WHERE clock <> 'acknowledge' OR rule_kind = 'none'")
    with op.batch_alter_table('deadline_policies', schema=None) as batch_op:
        batch_op.drop_column('clock')

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')

    with op.batch_alter_table('desk_escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_escalations_incident_id'))

    op.drop_table('desk_escalations')
