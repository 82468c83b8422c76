"""Job store and priority queue: experiments submitted, claimed by workers and recorded in SQL.

The store is any SQLAlchemy URL (SQLite for one machine, PostgreSQL for many); the schema is
migrated by the Alembic scripts shipped in `stockml/jobs/migrations`.
"""
