"""This installation's id: generated once, kept in the state database, shared by all its processes.

Several processes of one installation share its state database and so its id; a second installation
(another state database) pointed at the same shop has another id, and each recognises its own webhooks
by it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.sql import insert
from emporion.state.tables import installation_meta

INSTALLATION_ID = "installation_id"


def new_installation_id() -> str:
    """A fresh id: 16 hex digits, short enough for a webhook's name, random enough never to repeat."""
    return secrets.token_hex(8)


async def installation_id(conn: AsyncConnection) -> str:
    """The id kept in the database, made now if there is none (the first process to ask wins the race)."""
    statement = insert(conn.dialect.name, installation_meta).values(
        name=INSTALLATION_ID, value=new_installation_id()
    )
    await conn.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
    query = select(installation_meta.c.value).where(installation_meta.c.name == INSTALLATION_ID)
    found = await conn.scalar(query)
    assert found is not None
    return str(found)
