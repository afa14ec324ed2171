"""Configured read queries are checked read-only, and paging statements compile for every dialect.

MS SQL Server has no server here: the statements are compiled for its dialect and read (TOP, OFFSET
FETCH, bracket quoting, bound IN lists); PostgreSQL and MariaDB run them in the other tests.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql

from emporion.connectors.rows.settings import ChangeMode
from emporion.connectors.sql.feed import changed_rows
from emporion.connectors.sql.queries import (
    KEYS_PER_STATEMENT,
    QueryRefused,
    after_key,
    checked_query,
    chunks,
    compiled,
    page_at,
    refusal,
    with_keys,
)
from emporion.connectors.sql.reading import _after

READING = [
    "SELECT art_id, artnr FROM artikel",
    "SELECT a.art_id, SUM(l.menge) AS menge FROM artikel a "
    "JOIN lager_bestand l ON l.artnr = a.artnr GROUP BY a.art_id",
    "WITH aktiv AS (SELECT * FROM artikel WHERE aktiv = 1) SELECT * FROM aktiv",
    "SELECT artnr FROM artikel UNION ALL SELECT artnr FROM artikel_variante",
    "SELECT artnr, CASE WHEN geloescht = 'J' THEN 1 ELSE 0 END AS weg FROM artikel;",
    "SELECT * FROM (SELECT artnr, COALESCE(preis, 0) AS preis FROM preis) p WHERE p.preis > 0",
]
WRITING = {
    "INSERT INTO artikel (artnr) VALUES ('x')": "INSERT",
    "UPDATE artikel SET aktiv = 0": "UPDATE",
    "DELETE FROM artikel": "DELETE",
    "MERGE INTO artikel a USING neu n ON a.artnr = n.artnr WHEN MATCHED THEN DELETE": "MERGE",
    "CREATE TABLE x (a int)": "CREATE",
    "DROP TABLE artikel": "DROP",
    "ALTER TABLE artikel ADD COLUMN x int": "ALTER",
    "TRUNCATE artikel": "TRUNCATE",
    "GRANT ALL ON artikel TO public": "GRANT",
    "CALL artikel_loeschen(1)": "COMMAND",
    "SELECT * INTO kopie FROM artikel": "SELECT INTO",
    "SELECT * FROM artikel FOR UPDATE": "row lock",
    "SELECT * FROM artikel LOCK IN SHARE MODE": "row lock",
    "COPY artikel TO STDOUT": "COPY",
    "SELECT nextval('artikel_seq')": "nextval",
    "SELECT setval('artikel_seq', 1)": "setval",
    "SELECT lo_import('/etc/passwd')": "lo_import",
    "SELECT * FROM dblink('host=x', 'DELETE FROM y') AS t(a int)": "dblink",
    "WITH weg AS (DELETE FROM artikel RETURNING *) SELECT * FROM weg": "DELETE",
    "SELECT 1; DELETE FROM artikel": "exactly one statement",
    "SELECT * FROM artikel WHERE art_id IN (SELECT art_id FROM artikel FOR UPDATE)": "row lock",
    "": "exactly one statement",
}


@pytest.mark.parametrize("query", READING)
@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite", "mssql"])
def test_read_only_selects_are_taken(query: str, dialect: str) -> None:
    """SELECTs with joins, CTEs, unions and subqueries pass in every dialect; a trailing `;` is dropped."""
    assert refusal(query, dialect) is None
    assert not checked_query(query, dialect, "query of products").endswith(";")


@pytest.mark.parametrize(("query", "named"), list(WRITING.items()))
def test_queries_that_write_or_lock_are_refused_with_the_reason(query: str, named: str) -> None:
    """DML, DDL, grants, calls, SELECT INTO, row locks, writing functions, a second statement: refused."""
    with pytest.raises(QueryRefused) as refused:
        checked_query(query, "postgresql", "query of products")
    assert named.lower() in str(refused.value).lower()
    assert refused.value.record == "query of products"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("EXEC artikel_loeschen 1", "EXECUTE"),
        ("SELECT * FROM OPENROWSET('SQLNCLI', 'Server=x;', 'SELECT 1')", "openrowset"),
        ("SELECT * INTO #kopie FROM artikel", "SELECT INTO"),
        ("SELECT TOP 10 * FROM artikel; DROP TABLE artikel", "exactly one statement"),
    ],
)
def test_ms_sql_server_forms_are_refused(query: str, named: str) -> None:
    """T-SQL's EXEC, OPENROWSET and SELECT INTO a temporary table are refused too."""
    why = refusal(query, "mssql")
    assert why is not None and named.lower() in why.lower()


def test_mysql_forms_are_refused() -> None:
    """MySQL's INTO OUTFILE (unparseable as a read) and a sleep are refused."""
    assert refusal("SELECT artnr INTO OUTFILE '/tmp/x' FROM artikel", "mysql") is not None
    assert "sleep" in (refusal("SELECT SLEEP(10)", "mysql") or "")


def _src() -> sa.Subquery:
    table = sa.table("Artikel Stamm", sa.column("ArtNr"), sa.column("art_id"), sa.column("order"))
    return sa.select(*table.c).subquery("src")


def sql_server_2022() -> sa.Dialect:
    """The MS SQL dialect as a connection to SQL Server 2022 sets it up (OFFSET ... FETCH known)."""
    dialect = mssql.dialect()
    dialect.server_version_info = (16, 0)
    dialect._setup_version_attributes()
    return dialect


def test_ms_sql_paging_uses_top_offset_fetch_and_brackets() -> None:
    """On MS SQL keyset pages use TOP, positional pages OFFSET ... FETCH, names with spaces brackets."""
    dialect = sql_server_2022()
    keyset = compiled(after_key(_src(), "art_id", 17, 500), dialect)
    assert "TOP 500" in keyset and "[Artikel Stamm]" in keyset and "src.art_id > 17" in keyset
    assert "ORDER BY src.art_id" in keyset
    positional = compiled(page_at(_src(), "art_id", 1000, 500), dialect)
    assert "OFFSET 1000 ROWS" in positional and "FETCH FIRST 500 ROWS ONLY" in positional
    keys = compiled(with_keys(_src(), "ArtNr", ["A-1", "B'2"]), dialect)
    assert "src.[ArtNr] IN ('A-1', 'B''2')" in keys and "[order]" in keys


def test_paging_in_postgresql_and_mariadb_quotes_per_dialect() -> None:
    """LIMIT in PostgreSQL and MariaDB; quoting with double quotes and backticks."""
    pg = compiled(after_key(_src(), "art_id", None, 50), postgresql.dialect())
    assert 'FROM "Artikel Stamm"' in pg and "LIMIT 50" in pg and "WHERE" not in pg.split("src")[-1]
    maria = compiled(with_keys(_src(), "ArtNr", [1, 2]), mysql.dialect())
    assert "FROM `Artikel Stamm`" in maria and "src.`ArtNr` IN (1, 2)" in maria


def test_keyset_after_two_columns_is_spelled_out_for_dialects_without_row_values() -> None:
    """(a, b) > (x, y) becomes a > x OR (a = x AND b > y), which MS SQL understands."""
    src = _src()
    condition = _after([src.c.art_id, src.c.ArtNr], [5, "X"])
    text = compiled(sa.select(src).where(condition), mssql.dialect())
    assert "src.art_id > 5 OR src.art_id = 5 AND src.[ArtNr] > 'X'" in text


def test_key_lists_are_cut_into_statements_the_server_takes() -> None:
    """MS SQL takes at most 2100 parameters: IN lists are cut at KEYS_PER_STATEMENT."""
    parts = list(chunks(list(range(2 * KEYS_PER_STATEMENT + 1))))
    assert [len(part) for part in parts] == [KEYS_PER_STATEMENT, KEYS_PER_STATEMENT, 1]
    assert KEYS_PER_STATEMENT < 2100


def test_ms_sql_rowversion_feed_reads_below_the_oldest_open_transaction() -> None:
    """A monotonic feed on a rowversion column reads only below MIN_ACTIVE_ROWVERSION(), with TOP."""
    src = sa.select(*sa.table("Artikel", sa.column("RowVer"), sa.column("ArtNr")).c).subquery("src")
    floor = (1234).to_bytes(8, "big")
    statement = changed_rows(src, src.c.RowVer, src.c.ArtNr, ChangeMode.MONOTONIC, floor, None, "mssql", 200)
    text = str(statement.compile(dialect=sql_server_2022()))
    assert "src.[RowVer] < MIN_ACTIVE_ROWVERSION()" in text and "TOP" in text
    assert "ORDER BY src.[RowVer], src.[ArtNr]" in text
    numbers = changed_rows(src, src.c.RowVer, src.c.ArtNr, ChangeMode.MONOTONIC, 5, None, "mssql", 200)
    assert "MIN_ACTIVE_ROWVERSION" not in str(numbers.compile(dialect=sql_server_2022()))
