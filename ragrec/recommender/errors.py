"""Named errors of the recommender: callers map them to 404s or clear CLI messages."""

from __future__ import annotations


class RecommenderError(Exception):
    """Base class of the recommender's errors."""


class UnknownCustomer(RecommenderError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"unknown customer id {customer_id!r}")
        self.customer_id = customer_id


class UnknownProduct(RecommenderError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"unknown product id {product_id!r}")
        self.product_id = product_id


class InvalidRequest(RecommenderError):
    """A request that cannot be answered as asked (bad strategy, empty cart, ...)."""


class RankerNotTrained(RecommenderError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"no trained ranker under {where}: run `ragrec train-ranker` first "
            "or choose --strategy rrf|weighted"
        )
