"""Record every directory a job wrote, one row per attempt, with its output root.

Existing rows keep their one known directory; its output root was never recorded, so cleanup
keeps those directories (and says so) rather than guess where deleting is allowed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_outputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("output_root", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_outputs_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_outputs")),
        sa.UniqueConstraint("job_id", "path", name=op.f("uq_job_outputs_job_id_path")),
    )
    op.create_index(op.f("ix_job_outputs_job_id"), "job_outputs", ["job_id"])
    op.execute(
        "INSERT INTO job_outputs (job_id, attempt, path, output_root, created_at) "
        "SELECT id, attempts, output_dir, NULL, created_at FROM jobs "
        "WHERE output_dir IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("job_outputs")
