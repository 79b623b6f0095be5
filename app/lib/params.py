"""Path and query parameter types shared by the domains (validated, documented)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"

ProductId = Annotated[
    str,
    Parameter(
        description="product (article) id, e.g. 0822115001",
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
    ),
]
CustomerId = Annotated[
    str,
    Parameter(
        description="the shop's own customer id; pseudonymised by the API, never stored",
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
    ),
]
TopK = Annotated[int, Parameter(description="number of items (1..100)", ge=1, le=100)]
