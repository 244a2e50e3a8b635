"""One symbol's open orders, indexed by the price at which each would act, so a tick costs O(1).

A tick only needs to know whether its price segment reaches *any* order. Each index is a list of
``(price, order_id)`` kept sorted with :mod:`bisect`; the nearest price of every index is folded into four
*gates* (cached Decimals) that the tick compares against:

- ``down_last`` / ``up_last``: the highest price on the CONTRACT_PRICE path that fills or triggers something
  when the last price falls to it (resting BUY limits, SELL stops, BUY take-profits), and the lowest one when it
  rises (resting SELL limits, BUY stops, SELL take-profits);
- ``down_mark`` / ``up_mark``: the same for MARK_PRICE triggers on the mark path (the Exchange folds the
  isolated liquidation price into these too).

A quiet tick is then four comparisons. Only when a gate is reached does the Exchange ask for the candidates.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from decimal import Decimal
from operator import attrgetter

from hexdesk.engine.enums import OrderType, Side, WorkingType
from hexdesk.engine.fill_model import trigger_fires_at_or_above
from hexdesk.engine.orders import Order

NEG_INF = Decimal("-Infinity")
POS_INF = Decimal("Infinity")
_MAX_ID = sys.maxsize
_ORDER_ID = attrgetter("order_id")

_Index = list[tuple[Decimal, int]]
_LIMIT = OrderType.LIMIT
_BUY = Side.BUY


def rests_as_limit(order: Order) -> bool:
    """A LIMIT order, or a stop/take-profit limit that has triggered: it waits in the book at its price."""
    return order.type is _LIMIT or (order.triggered and order.type.has_limit_price)


class OrderBook:
    """The open orders of one symbol with their price indices (mutable; owned by the Exchange)."""

    __slots__ = (
        "_down_contract",
        "_down_mark",
        "_keys",
        "_up_contract",
        "_up_mark",
        "buy_limits",
        "down_by_type",
        "orders",
        "sell_limits",
        "up_by_type",
    )

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self._keys: dict[int, tuple[_Index, tuple[Decimal, int]]] = {}  # order id -> its index and entry there
        self.buy_limits: _Index = []
        self.sell_limits: _Index = []
        self._up_contract: _Index = []
        self._up_mark: _Index = []
        self._down_contract: _Index = []
        self._down_mark: _Index = []
        self.up_by_type: dict[WorkingType, _Index] = {
            WorkingType.CONTRACT_PRICE: self._up_contract, WorkingType.MARK_PRICE: self._up_mark
        }
        self.down_by_type: dict[WorkingType, _Index] = {
            WorkingType.CONTRACT_PRICE: self._down_contract, WorkingType.MARK_PRICE: self._down_mark
        }

    def __len__(self) -> int:
        return len(self.orders)

    def __iter__(self) -> Iterator[Order]:
        """The open orders by order id (the order they were placed in)."""
        orders = self.orders
        if len(orders) < 2:  # (nothing to sort: the usual book of a trainer holds none or one)
            return iter(orders.values())
        return iter(sorted(orders.values(), key=_ORDER_ID))

    def get(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def _index_of(self, order: Order) -> tuple[_Index, Decimal]:
        order_type = order.type
        if order_type is _LIMIT or (order.triggered and order_type.has_limit_price):  # rests_as_limit, inlined
            return (self.buy_limits if order.side is _BUY else self.sell_limits), order.price
        if trigger_fires_at_or_above(order.side, order_type):
            return self.up_by_type[order.working_type], order.stop_price
        return self.down_by_type[order.working_type], order.stop_price

    def add(self, order: Order) -> None:
        order_id = order.order_id
        self.orders[order_id] = order
        index, price = self._index_of(order)
        key = (price, order_id)
        insort(index, key)
        self._keys[order_id] = (index, key)

    def remove(self, order_id: int) -> Order | None:
        """Take an order out (None if it is not here). Its index entry is the one ``add`` made: an order's index
        key never changes while it is in the book (``replace`` re-adds one whose price or trigger state changed)."""
        order = self.orders.pop(order_id, None)
        if order is not None:
            index, key = self._keys.pop(order_id)
            i = bisect_left(index, key)
            if i < len(index) and index[i] == key:
                del index[i]
        return order

    def replace(self, order: Order) -> None:
        """Store the new value of an open order (re-indexed: its price or trigger state may have changed)."""
        self.remove(order.order_id)
        self.add(order)

    def update_in_place(self, order: Order) -> None:
        """Store a new value whose index key is unchanged (a partial fill): no re-indexing needed."""
        self.orders[order.order_id] = order

    # -- gates --------------------------------------------------------------------------------------------

    def gates(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(down_last, up_last, down_mark, up_mark): see the module docstring."""
        buys, sells, downs, ups = self.buy_limits, self.sell_limits, self._down_contract, self._up_contract
        down_last = buys[-1][0] if buys else NEG_INF
        if downs and downs[-1][0] > down_last:
            down_last = downs[-1][0]
        up_last = sells[0][0] if sells else POS_INF
        if ups and ups[0][0] < up_last:
            up_last = ups[0][0]
        downs, ups = self._down_mark, self._up_mark
        return down_last, up_last, downs[-1][0] if downs else NEG_INF, ups[0][0] if ups else POS_INF

    # -- candidates for a price segment ---------------------------------------------------------------------

    def limit_candidates(self, low: Decimal, high: Decimal) -> list[int]:
        """Resting limits the segment [low, high] reaches: BUYs priced >= low, SELLs priced <= high."""
        buys = self.buy_limits[bisect_left(self.buy_limits, (low, -1)) :]
        sells = self.sell_limits[: bisect_right(self.sell_limits, (high, _MAX_ID))]
        return [oid for _, oid in buys] + [oid for _, oid in sells]

    def trigger_candidates(self, working_type: WorkingType, low: Decimal, high: Decimal) -> list[int]:
        """Untriggered conditionals whose stopPrice the segment [low, high] reaches."""
        up = self.up_by_type[working_type]
        down = self.down_by_type[working_type]
        ups = up[: bisect_right(up, (high, _MAX_ID))]
        downs = down[bisect_left(down, (low, -1)) :]
        return [oid for _, oid in ups] + [oid for _, oid in downs]
