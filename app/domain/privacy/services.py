from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from app.domain.privacy.schemas import CustomerExport, ErasureResult
from app.lib.errors import NotFound, Unavailable
from app.lib.resources import Resources
from ragrec.privacy import PrivacyError, PrivacyStores, erase_customer, export_customer

T = TypeVar("T")


#: what an export shows where a store holds the customer's pseudonym (issue 14: no
#: response carries a pseudonym or anything else derived from the pseudonymisation key)
THIS_CUSTOMER = "(this customer)"


def export(resources: Resources, customer_id: str) -> CustomerExport:
    pseudonym = resources.pseudonym(customer_id)
    data = _guarded(lambda: export_customer(_stores(resources), pseudonym))
    if data is None:
        raise NotFound("no data is held about this customer", field="customer_id")
    data.pop("customer_ref", None)
    return msgspec.convert(_without(data, pseudonym), CustomerExport)


def _without(value: Any, pseudonym: str) -> Any:
    """`value` with every occurrence of the pseudonym replaced."""
    if isinstance(value, str):
        return value.replace(pseudonym, THIS_CUSTOMER) if pseudonym in value else value
    if isinstance(value, dict):
        return {_without(k, pseudonym): _without(v, pseudonym) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without(v, pseudonym) for v in value]
    return value


def erase(resources: Resources, customer_id: str) -> ErasureResult:
    pseudonym = resources.pseudonym(customer_id)
    report = _guarded(
        lambda: erase_customer(_stores(resources), pseudonym, resources.evict_customer)
    )
    if report is None:
        raise NotFound(
            "no data is held about this customer (never known, or already erased)",
            field="customer_id",
        )
    # once more after the graph is gone: an answer computed between the first eviction
    # and the node's deletion must not survive (every worker: app.lib.cache)
    report.cache_entries += resources.evict_customer(pseudonym)
    return msgspec.convert(report.to_dict(), ErasureResult)


def _stores(resources: Resources) -> PrivacyStores:
    return PrivacyStores(resources.settings, resources.driver, resources.pg.connection)


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except PrivacyError as exc:
        raise Unavailable(str(exc)) from exc
