"""Purchases as sparse matrices for the baselines: users x items counts and, in the same
shape, each pair's last purchase day (as an ordinal), from (customer, article, day) rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl
import scipy.sparse as sp


@dataclass
class Interactions:
    users: list[str]
    items: list[str]
    matrix: sp.csr_matrix  # purchase counts
    days: sp.csr_matrix  # last purchase day (date.toordinal()) of each (user, item)
    last_day: date | None
    user_index: dict[str, int] = field(init=False)
    item_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {p: i for i, p in enumerate(self.items)}

    @classmethod
    def from_pairs(
        cls,
        pairs: pl.DataFrame,
        catalogue: Sequence[str] = (),
        users: Sequence[str] = (),
    ) -> Interactions:
        """`pairs`: columns customer, article, day. The item axis is the catalogue plus
        every article bought; the user axis every buyer plus `users`."""
        user_list = sorted(set(pairs["customer"].to_list()) | set(users))
        items = sorted(set(pairs["article"].to_list()) | set(catalogue))
        u = {x: i for i, x in enumerate(user_list)}
        it = {x: i for i, x in enumerate(items)}
        shape = (len(user_list), len(items))
        if pairs.is_empty():
            empty = sp.csr_matrix(shape, dtype=np.float32)
            return cls(user_list, items, empty, empty.copy(), None)
        grouped = pairs.group_by("customer", "article").agg(
            pl.len().alias("n"), pl.col("day").max().alias("last")
        )
        rows = np.array([u[x] for x in grouped["customer"].to_list()], dtype=np.int64)
        cols = np.array([it[x] for x in grouped["article"].to_list()], dtype=np.int64)
        counts = grouped["n"].to_numpy().astype(np.float32)
        ordinals = np.array([d.toordinal() for d in grouped["last"].to_list()], dtype=np.float64)
        matrix = sp.csr_matrix((counts, (rows, cols)), shape=shape)
        days = sp.csr_matrix((ordinals, (rows, cols)), shape=shape)
        last = pairs["day"].max()
        return cls(user_list, items, matrix, days, last if isinstance(last, date) else None)

    def rows_of(self, baskets: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """One row per basket (a cart or a history), over this item axis."""
        indptr = [0]
        indices: list[int] = []
        for basket in baskets:
            cols = sorted({self.item_index[i] for i in basket if i in self.item_index})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix(
            (data, np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(baskets), len(self.items)),
        )

    def ids(self, rows: np.ndarray) -> list[list[str]]:
        """Item index arrays (-1 = none) back to product ids."""
        return [[self.items[i] for i in row if i >= 0] for row in np.asarray(rows)]
