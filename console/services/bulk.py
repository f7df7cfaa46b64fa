"""Writing and matching many rows at once, the fastest way each database offers.

Imports write hundreds of thousands of rows. On PostgreSQL, `executemany` sends one
statement per row and a long `IN (...)` list is parsed in Python for every call, so
there rows go in with COPY and key lists travel as one array parameter. SQLite gets
the ordinary statements, which it runs in process.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg.types.json import Json
from sqlalchemy import JSON, String, Table, any_, bindparam, cast, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` (dicts of column values) into `table`; missing columns get defaults."""
    if not rows:
        return
    if not is_postgres(session):
        session.execute(table.insert(), list(rows))
        return
    columns = [
        c
        for c in table.columns
        if not c.name.startswith("_") and (not c.primary_key or c.name in rows[0])
    ]
    names = ", ".join(f'"{c.name}"' for c in columns)
    session.flush()
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_value(row, column) for column in columns])


def insert_returning_ids(session: Session, table: Table, rows: Sequence[dict]) -> list[int]:
    """Insert `rows` and return their new ids, in order."""
    if not rows:
        return []
    if not is_postgres(session):
        return list(
            session.scalars(
                table.insert().returning(table.c.id, sort_by_parameter_order=True), list(rows)
            )
        )
    ids = list(
        session.scalars(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": len(rows)},
        )
    )
    insert_rows(session, table, [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)])
    return ids


def _value(row: dict, column):
    """A row's value for a COPY: as given, else the column's Python default."""
    if column.name in row:
        value = row[column.name]
    elif column.default is not None:
        value = column.default.arg(None) if column.default.is_callable else column.default.arg
    else:
        value = None
    if isinstance(column.type, JSON) and value is not None:
        return Json(value)
    return value


def in_list(session: Session, column, values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values`, sent as one array parameter on PostgreSQL."""
    if is_postgres(session):
        return column == any_(cast(bindparam(None, list(values)), ARRAY(String)))
    return column.in_(list(values))
