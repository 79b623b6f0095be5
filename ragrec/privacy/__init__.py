"""GDPR: export and erasure of one customer across every store (see `gdpr`)."""

from ragrec.privacy.gdpr import (
    ErasureReport,
    PrivacyError,
    PrivacyStores,
    erase_customer,
    export_customer,
)

__all__ = ["ErasureReport", "PrivacyError", "PrivacyStores", "erase_customer", "export_customer"]
