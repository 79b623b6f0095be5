"""ETL: H&M-schema files -> validated, pseudonymised Polars frames (+ a data generator).

Public API: `prepare`, `Prepared`, `write_rejects`, `EtlError`, `find_image`,
`pseudonymise_customer_id`, and `ragrec.etl.generator.generate`.
"""

from ragrec.etl.errors import EtlError
from ragrec.etl.pipeline import Prepared, prepare, write_rejects
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.etl.readers import find_image

__all__ = [
    "EtlError",
    "Prepared",
    "find_image",
    "prepare",
    "pseudonymise_customer_id",
    "write_rejects",
]
