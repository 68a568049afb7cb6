"""Copy a PostgreSQL schema — sequences, tables, defaults, rows, constraints, indexes — into another schema of
the same database.

This is what `CREATE DATABASE … TEMPLATE` does for a whole database, without its cost: that copies the
template's every block through the WAL (~8 MB even for an empty database), and `DROP DATABASE` forces a
checkpoint of the whole server. A copy of our schema is ~25 small tables, and `DROP SCHEMA … CASCADE` is cheap.

The copy script is read from the catalogue once per source schema (a template does not change once built) and
refuses what it does not copy (views, functions, types, triggers), so a migration that adds one fails here
loudly rather than giving tests a database without it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows(conn: Connection, sql: str, **params: object) -> list:
    return list(conn.execute(text(sql), params))


def clone_script(conn: Connection, source: str) -> str:
    """SQL that recreates `source` (objects and rows) in the schema first on the search_path."""
    conn.execute(text(f"SET LOCAL search_path TO {_q(source)}"))  # names in definitions come out unqualified
    ns = conn.execute(text("SELECT oid FROM pg_namespace WHERE nspname = :s"), {"s": source}).scalar_one()
    unsupported = _rows(conn, """
        SELECT relname FROM pg_class WHERE relnamespace = :ns AND relkind NOT IN ('r', 'S', 'i')
        UNION ALL SELECT proname FROM pg_proc WHERE pronamespace = :ns
        UNION ALL SELECT typname FROM pg_type WHERE typnamespace = :ns AND typtype <> 'c' AND typcategory <> 'A'
        UNION ALL SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                  WHERE c.relnamespace = :ns AND NOT t.tgisinternal""", ns=ns)
    if unsupported:
        raise NotImplementedError(f"tests/pgclone.py does not copy {sorted(r[0] for r in unsupported)}")
    out: list[str] = []
    # sequences: serial ones are made here; identity ones come with their table (INCLUDING IDENTITY)
    sequences = _rows(conn, """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart,
               s.seqcache, s.seqcycle, (SELECT t.relname || '.' || a.attname FROM pg_depend d
                   JOIN pg_class t ON t.oid = d.refobjid
                   JOIN pg_attribute a ON (a.attrelid, a.attnum) = (d.refobjid, d.refobjsubid)
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = :ns ORDER BY c.relname""",
                      ns=ns)
    later: list[str] = []
    for name, kind, step, low, high, start, cache, cycle, identity_of in sequences:
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {_q(source)}.{_q(name)}")).one()
        if identity_of is None:
            out.append(f"CREATE SEQUENCE {_q(name)} AS {kind} INCREMENT BY {step} MINVALUE {low} MAXVALUE {high} "
                       f"START WITH {start} CACHE {cache} {'' if cycle else 'NO '}CYCLE")
            out.append(f"SELECT setval('{_q(name)}', {last}, {'true' if called else 'false'})")
        else:
            table, column = identity_of.split(".", 1)
            later.append(f"SELECT setval(pg_get_serial_sequence('{_q(table)}', '{column}'), {last}, "
                         f"{'true' if called else 'false'})")
    tables = _rows(conn, "SELECT oid, relname FROM pg_class WHERE relnamespace = :ns AND relkind = 'r' ORDER BY relname",
                   ns=ns)
    for _oid, table in tables:
        out.append(f"CREATE TABLE {_q(table)} (LIKE {_q(source)}.{_q(table)} INCLUDING STORAGE INCLUDING COMMENTS "
                   "INCLUDING GENERATED INCLUDING IDENTITY)")  # NOT NULL always comes along
    for table, column, default in _rows(conn, """
            SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
            JOIN pg_attribute a ON (a.attrelid, a.attnum) = (d.adrelid, d.adnum) JOIN pg_class c ON c.oid = d.adrelid
            WHERE c.relnamespace = :ns AND a.attgenerated = '' ORDER BY 1, 2""", ns=ns):
        out.append(f"ALTER TABLE {_q(table)} ALTER COLUMN {_q(column)} SET DEFAULT {default}")
    for sequence, table, column in _rows(conn, """
            SELECT s.relname, t.relname, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
            JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON (a.attrelid, a.attnum) = (t.oid, d.refobjsubid)
            WHERE d.classid = 'pg_class'::regclass AND s.relkind = 'S' AND s.relnamespace = :ns
              AND d.deptype = 'a'""", ns=ns):
        out.append(f"ALTER SEQUENCE {_q(sequence)} OWNED BY {_q(table)}.{_q(column)}")
    for oid, table in tables:
        columns = ", ".join(_q(r[0]) for r in _rows(conn, """
            SELECT attname FROM pg_attribute WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped
              AND attgenerated = '' ORDER BY attnum""", oid=oid))
        out.append(f"INSERT INTO {_q(table)} ({columns}) OVERRIDING SYSTEM VALUE "
                   f"SELECT {columns} FROM {_q(source)}.{_q(table)}")
    out.extend(later)
    # constraints after the rows (foreign keys last: any order of tables then works), with their own names
    for table, name, definition in _rows(conn, """
            SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = :ns AND k.contype IN ('p', 'u', 'c', 'x', 'f')
            ORDER BY k.contype = 'f', k.contype <> 'p', c.relname, k.conname""", ns=ns):
        out.append(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for name, table, unique, definition in _rows(conn, """
            SELECT i.relname, t.relname, x.indisunique, pg_get_indexdef(x.indexrelid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relnamespace = :ns AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid
                                                       AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))
            ORDER BY 1""", ns=ns):
        using = definition[definition.index(" USING "):]  # the definition names the table with its schema
        out.append(f"CREATE {'UNIQUE ' if unique else ''}INDEX {_q(name)} ON {_q(table)}{using}")
    return ";\n".join(out) + ";\n"


def clone_schema(conn: Connection, script: str, target: str) -> None:
    """Create schema `target` and run a `clone_script` in it (one transaction: the caller's)."""
    conn.execute(text(f"CREATE SCHEMA {_q(target)}"))
    conn.execute(text(f"SET LOCAL search_path TO {_q(target)}"))
    conn.connection.driver_connection.execute(script)  # several statements: psycopg's simple query protocol
