from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import msgspec

from app.domain.privacy.schemas import CustomerExport, ErasureResult
from app.lib.errors import NotFound, Unavailable
from app.lib.resources import Resources
from ragrec.privacy import PrivacyError, PrivacyStores, erase_customer, export_customer

T = TypeVar("T")


def export(resources: Resources, customer_id: str) -> CustomerExport:
    data = _guarded(lambda: export_customer(_stores(resources), resources.pseudonym(customer_id)))
    if data is None:
        raise NotFound("no data is held about this customer", field="customer_id")
    return msgspec.convert(data, CustomerExport)


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
    return msgspec.convert(report.to_dict(), ErasureResult)


def _stores(resources: Resources) -> PrivacyStores:
    return PrivacyStores(resources.settings, resources.driver, resources.pg.connection)


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except PrivacyError as exc:
        raise Unavailable(str(exc)) from exc
