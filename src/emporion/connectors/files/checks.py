"""`emporion check` for a file drop: can it be listed, what is configured, do the newest files parse."""

from __future__ import annotations

from emporion.connectors.base import CheckResult, ConnectorError
from emporion.connectors.files.catalogue import Catalogue
from emporion.connectors.files.drop import Drop
from emporion.connectors.files.formats import UnreadableFile, iter_columns
from emporion.connectors.files.settings import FilesConnection
from emporion.connectors.files.store import Store


async def check_drop(
    store: Store, drop: Drop, catalogue: Catalogue, settings: FilesConnection
) -> list[CheckResult]:
    """One result for the drop itself and one per configured source (its newest file parsed)."""
    try:
        waiting = await store.list(drop.incoming)
        await store.mkdir(drop.processed)
        await store.mkdir(drop.rejects)
    except ConnectorError as error:
        return [CheckResult(f"drop {store.where}", False, str(error))]
    results = [CheckResult(f"drop {store.where}", True, f"{len(waiting)} file(s) waiting in {drop.incoming}")]
    for source_name, source in catalogue.sources.items():
        kind = "full" if source.full else "delta"
        label = f"{source_name} ({source.pattern}, {source.format.value}, {kind})"
        try:
            files = await catalogue.files(source, settled=False)
            if not files:
                results.append(CheckResult(label, True, "no file yet"))
                continue
            newest = files[-1]
            parsed = await catalogue.parsed(newest, source)
        except UnreadableFile as error:
            results.append(CheckResult(label, False, f"{files[-1].name}: {error}"))
            continue
        except ConnectorError as error:
            results.append(CheckResult(label, False, str(error)))
            continue
        present = set(iter_columns(parsed))
        missing = sorted(
            column for column in catalogue.mappers[source_name].columns() if column not in present
        )
        folded = {column.casefold() for column in present}
        missing = [column for column in missing if column.casefold() not in folded]
        if missing and parsed.rows:
            results.append(CheckResult(label, False, f"{newest.name} lacks column(s) {', '.join(missing)}"))
        else:
            detail = f"{newest.name}: {len(parsed.rows)} row(s), {len(parsed.rejects)} rejected"
            results.append(CheckResult(label, True, detail))
    if settings.orders is not None:
        orders = settings.orders
        results.append(CheckResult("orders", True, f"{orders.format.value} files into {orders.folder}"))
    return results
