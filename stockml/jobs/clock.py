"""The database server's clock, for leases shared by processes on several hosts.

A lease written by one host and judged expired by another means something only when both
read the same clock. Every lease renewal and expiry check is therefore an SQL expression
evaluated by the store (`db_now(seconds)`), never a Python timestamp from a client whose
clock may be minutes off.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from stockml.jobs.models import UTCDateTime


class db_now(FunctionElement[Any]):
    """The store's current UTC time plus `seconds` (which may be negative)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "db_now"

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__(literal(float(seconds), Float()))


@compiles(db_now, "sqlite")
def _sqlite_now(element: db_now, compiler: Any, **kw: Any) -> str:
    # SQLite's 'now' is UTC; %f keeps milliseconds, which short leases need. The text sorts
    # like the microsecond text SQLAlchemy writes for Python datetimes.
    seconds = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', ({seconds}) || ' seconds')"


@compiles(db_now, "postgresql")
def _postgresql_now(element: db_now, compiler: Any, **kw: Any) -> str:
    # clock_timestamp(), not now(): a long transaction must not see an old time.
    seconds = compiler.process(element.clauses, **kw)
    return f"(clock_timestamp() + make_interval(secs => {seconds}))"


@compiles(db_now)
def _other_now(element: db_now, compiler: Any, **kw: Any) -> str:
    raise NotImplementedError(
        f"the job store supports SQLite and PostgreSQL, not {compiler.dialect.name}"
    )
