"""`column IN :list` with the whole list bound as one parameter.

SQLAlchemy's expanding IN renders one placeholder per value on every execution, past its
statement cache: for the report writer's few reads of a batch's keys, re-rendering their lists
cost more than the database took to answer them. Bound as one value (a JSON array that SQLite's
`json_each` reads, a PostgreSQL array), the statement's SQL is the same for every batch and is
compiled once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Boolean, ColumnElement, Integer, String, Text, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal


class _Values(TypeDecorator[Any]):
    """A list bound as one value: JSON text, or on PostgreSQL an array of `item` (`rows` lists
    of tuples always go as JSON).

    The array is bound as itself (`$1::TEXT[]`), never as text cast to an array: PostgreSQL
    re-evaluates such a cast for every row a sequential scan filters, which made the writer's
    look-up of 16 keys in a table of a few thousand rows cost 7 ms instead of 1.
    """

    impl = String
    cache_ok = True

    def __init__(self, rows: bool = False, item: str = "text") -> None:
        super().__init__()
        self.rows = rows
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql" and not self.rows:
            return dialect.type_descriptor(ARRAY(Integer() if self.item == "integer" else Text()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" and not self.rows:
            return list(value)
        return orjson.dumps(list(value)).decode()


class Among(ColumnElement[bool]):
    """True where `columns` (one, or a row of several) is among the values bound to `name`."""

    __visit_name__ = "shelterwatch_among"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition already: SQLite must not get "= 1" after it
    _traverse_internals = [("columns", InternalTraversal.dp_clauseelement_tuple),
                           ("param", InternalTraversal.dp_clauseelement)]

    def __init__(self, columns: Sequence[ColumnElement[Any]], name: str) -> None:
        self.columns = tuple(columns)
        item = "integer" if len(columns) == 1 and isinstance(columns[0].type, Integer) \
            else "text"
        self.param: BindParameter[Any] = bindparam(
            name, type_=_Values(rows=len(columns) > 1, item=item))


def among(column: ColumnElement[Any], name: str) -> Among:
    """`column IN :name`, `name` bound to a list of values."""
    return Among([column], name)


def rows_among(columns: Sequence[ColumnElement[Any]], name: str) -> Among:
    """`(a, b, ...) IN :name`, `name` bound to a list of tuples."""
    return Among(columns, name)


@compiles(Among)
def _sqlite(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    param = compiler.process(element.param, **kw)
    cols = [compiler.process(c, **kw) for c in element.columns]
    if len(cols) == 1:
        return f"{cols[0]} IN (SELECT value FROM json_each({param}))"
    picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(cols)))
    return f"({', '.join(cols)}) IN (SELECT {picks} FROM json_each({param}))"


@compiles(Among, "postgresql")
def _postgresql(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    param = compiler.process(element.param, **kw)
    types = [compiler.dialect.type_compiler_instance.process(c.type) for c in element.columns]
    cols = [compiler.process(c, **kw) for c in element.columns]
    if len(cols) == 1:
        return f"{cols[0]} = ANY({param})"
    picks = ", ".join(f"CAST(v ->> {i} AS {t})" for i, t in enumerate(types))
    return (f"({', '.join(cols)}) IN (SELECT {picks} FROM "
            f"jsonb_array_elements(CAST({param} AS jsonb)) AS v)")
