"""The first schema: teams, users, tokens, sessions, patients, submissions, files, assessments, jobs, audit.

Revision ID: r0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None


def upgrade() -> None:
    op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(128), nullable=False, unique=True))
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("username", sa.String(128), nullable=False, unique=True),
                    sa.Column("password_hash", sa.String(256), nullable=False),
                    sa.Column("role", sa.String(16), nullable=False),
                    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=True),
                    sa.Column("active", sa.Boolean, nullable=False),
                    sa.Column("created", sa.DateTime, nullable=False))
    op.create_table("api_tokens", sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
                    sa.Column("secret_hash", sa.String(256), nullable=False),
                    sa.Column("label", sa.String(128), nullable=False),
                    sa.Column("created", sa.DateTime, nullable=False),
                    sa.Column("expires", sa.DateTime, nullable=False),
                    sa.Column("revoked", sa.DateTime, nullable=True))
    op.create_table("web_sessions", sa.Column("id", sa.String(64), primary_key=True),
                    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
                    sa.Column("csrf", sa.String(64), nullable=False),
                    sa.Column("created", sa.DateTime, nullable=False),
                    sa.Column("expires", sa.DateTime, nullable=False))
    op.create_table("login_failures", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("username", sa.String(128), nullable=False, index=True),
                    sa.Column("address", sa.String(64), nullable=False),
                    sa.Column("at", sa.DateTime, nullable=False))
    op.create_table("patients", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False, index=True),
                    sa.Column("patient_id", sa.String(128), nullable=False),
                    sa.Column("created", sa.DateTime, nullable=False),
                    sa.UniqueConstraint("team_id", "patient_id"))
    op.create_table("submissions", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("patient_pk", sa.Integer, sa.ForeignKey("patients.id"), nullable=False, index=True),
                    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
                    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
                    sa.Column("idempotency_key", sa.String(128), nullable=True),
                    sa.Column("request_hash", sa.String(64), nullable=False),
                    sa.Column("patient_json", sa.Text, nullable=False),
                    sa.Column("region", sa.String(4), nullable=True),
                    sa.Column("created", sa.DateTime, nullable=False),
                    sa.UniqueConstraint("team_id", "idempotency_key"))
    op.create_table("stored_files", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
                    sa.Column("name", sa.String(128), nullable=False),
                    sa.Column("sha256", sa.String(64), nullable=False),
                    sa.Column("size", sa.Integer, nullable=False),
                    sa.Column("kind", sa.String(16), nullable=False))
    op.create_table("assessments", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
                    sa.Column("patient_pk", sa.Integer, sa.ForeignKey("patients.id"), nullable=False, index=True),
                    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False, index=True),
                    sa.Column("software_version", sa.String(64), nullable=False),
                    sa.Column("kb_version", sa.String(64), nullable=False),
                    sa.Column("result_json", sa.Text, nullable=False),
                    sa.Column("rerun_of", sa.Integer, sa.ForeignKey("assessments.id"), nullable=True),
                    sa.Column("created", sa.DateTime, nullable=False))
    op.create_table("jobs", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False, index=True),
                    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
                    sa.Column("kind", sa.String(32), nullable=False),
                    sa.Column("status", sa.String(16), nullable=False),
                    sa.Column("idempotency_key", sa.String(128), nullable=True),
                    sa.Column("created", sa.DateTime, nullable=False),
                    sa.Column("updated", sa.DateTime, nullable=False),
                    sa.UniqueConstraint("team_id", "idempotency_key"))
    op.create_table("job_items", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
                    sa.Column("seq", sa.Integer, nullable=False),
                    sa.Column("status", sa.String(16), nullable=False),
                    sa.Column("input_json", sa.Text, nullable=False),
                    sa.Column("result_json", sa.Text, nullable=True),
                    sa.Column("error", sa.Text, nullable=True),
                    sa.Column("attempts", sa.Integer, nullable=False))
    op.create_table("audit", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("at", sa.DateTime, nullable=False),
                    sa.Column("user_id", sa.Integer, nullable=True),
                    sa.Column("username", sa.String(128), nullable=False),
                    sa.Column("team_id", sa.Integer, nullable=True),
                    sa.Column("patient_pk", sa.Integer, nullable=True),
                    sa.Column("action", sa.String(64), nullable=False),
                    sa.Column("target", sa.String(128), nullable=False),
                    sa.Column("address", sa.String(64), nullable=False),
                    sa.Column("kb_version", sa.String(64), nullable=False),
                    sa.Column("prev_hash", sa.String(64), nullable=False),
                    sa.Column("hash", sa.String(64), nullable=False, unique=True))


def downgrade() -> None:
    for table in ("audit", "job_items", "jobs", "assessments", "stored_files", "submissions", "patients",
                  "login_failures", "web_sessions", "api_tokens", "users", "teams"):
        op.drop_table(table)
