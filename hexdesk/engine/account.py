"""The mutable per-symbol state the Exchange keeps, and the money rounding rule.

Money (wallets, fees, realized PnL, funding, margin posted) is rounded to 8 decimals, Binance's USDT precision,
at the moment it moves. Every balance is then a sum of 8-decimal amounts, which Decimal adds exactly: money is
conserved to the last digit and replaying the event log gives the same balances. Prices, entry prices and
liquidation prices are not money and keep full Decimal precision.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter

from hexdesk.engine.book import NEG_INF, POS_INF, OrderBook
from hexdesk.engine.enums import MarginMode
from hexdesk.engine.guards import price_bounds
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.orders import Order

ZERO = Decimal(0)
_CENT_OF_SATOSHI = Decimal("1e-8")


def money(amount: Decimal) -> Decimal:
    """An amount of USDT as it moves between balances: 8 decimals, half up."""
    return amount.quantize(_CENT_OF_SATOSHI, ROUND_HALF_UP)  # (positional: cheaper to call, as often as it is)


class SymbolState:
    """Market, settings, position and open orders of one symbol, plus the caches that keep a tick O(1).

    ``bar_volume`` is the liquidity estimate of the latest tick (base volume per minute from closed candles, see
    fill_model; None: no volume model), which prices market orders, and ``tick_ms`` that tick's time, so the next
    tick's segment knows its duration (a resting limit's share of the liquidity, ``fill_model.segment_volume``).

    Caches (recomputed by the Exchange whenever the position, its wallet or the book changes):

    - ``down_last`` / ``up_last`` / ``down_mark`` / ``up_mark``: the gates of :class:`OrderBook`, with the
      liquidation price (isolated, or cross as of the last position change) folded into the mark gates (a long's
      LP into ``down_mark``, a short's into ``up_mark``), so a liquidation check costs no extra comparison, and
      clamped to the symbol's valid price range (``price_low`` / ``price_high``), so that a price outside it
      (0, negative, beyond maxPrice, ±Infinity) always leaves the fast path for the slow one, which refuses it;
    - ``upnl`` / ``mm``: this symbol's unrealized PnL and maintenance margin at ``mark``, for the cross running
      totals (only maintained while the position is cross);
    - ``mm_floor`` / ``mm_cap`` / ``mmr`` / ``cum``: the bracket the current notional falls in, so a tick
      re-looks it up only when the notional leaves it.
    """

    __slots__ = (
        "_margin_mode",
        "bar_volume",
        "book",
        "cross_open",
        "cum",
        "down_last",
        "down_mark",
        "entry",
        "funding_rate",
        "instrument",
        "is_isolated",
        "iso_wallet",
        "last",
        "leverage",
        "liq_price",
        "mark",
        "mm",
        "mm_cap",
        "mm_floor",
        "mmr",
        "next_funding_ms",
        "price_high",
        "price_low",
        "qty",
        "symbol",
        "tick_ms",
        "up_last",
        "up_mark",
        "upnl",
    )

    def __init__(self, instrument: Instrument, leverage: int, margin_mode: MarginMode) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.last: Decimal | None = None
        self.mark: Decimal | None = None
        self.bar_volume: Decimal | None = None
        self.tick_ms = 0
        self.leverage = leverage
        self.margin_mode = margin_mode
        self.qty = ZERO
        self.entry = ZERO
        self.iso_wallet = ZERO
        self.upnl = ZERO
        self.mm = ZERO
        self.mm_floor = ZERO
        self.mm_cap = ZERO
        self.mmr = ZERO
        self.cum = ZERO
        self.liq_price: Decimal | None = None
        self.cross_open = False
        self.book = OrderBook()
        self.funding_rate = ZERO
        self.next_funding_ms = 0
        self.price_low, self.price_high = price_bounds(instrument)
        self.down_last = NEG_INF
        self.up_last = POS_INF
        self.down_mark = NEG_INF
        self.up_mark = POS_INF
        self.refresh_gates()

    @property
    def margin_mode(self) -> MarginMode:
        return self._margin_mode

    @margin_mode.setter
    def margin_mode(self, mode: MarginMode) -> None:
        """Setting the mode also sets ``is_isolated`` (a plain attribute: read on every fill and margin check)."""
        self._margin_mode = mode
        self.is_isolated = mode is MarginMode.ISOLATED

    def maintenance_at(self, mark: Decimal) -> Decimal:
        """MM of the position at ``mark``, re-looking up the bracket only when the notional leaves the cached one."""
        notional = abs(self.qty) * mark
        if not self.mm_floor <= notional <= self.mm_cap:
            b = self.instrument.bracket_for_notional(notional)
            self.mm_floor, self.mm_cap = b.notional_floor, b.notional_cap
            self.mmr, self.cum = b.maint_margin_ratio, b.cum
        return notional * self.mmr - self.cum

    def refresh_gates(self) -> None:
        """Recompute the four gates from the book, the liquidation price and the valid price range."""
        down_last, up_last, down_mark, up_mark = self.book.gates()
        lp = self.liq_price
        if lp is not None and self.qty:
            if self.qty > 0:
                if lp > down_mark:
                    down_mark = lp
            elif lp < up_mark:
                up_mark = lp
        low, high = self.price_low, self.price_high  # (an empty side's gate is the ±Infinity sentinel)
        self.down_last = low if down_last is NEG_INF or down_last < low else down_last
        self.up_last = high if up_last is POS_INF or up_last > high else up_last
        self.down_mark = low if down_mark is NEG_INF or down_mark < low else down_mark
        self.up_mark = high if up_mark is POS_INF or up_mark > high else up_mark

    def save(self) -> tuple[tuple[object, ...], dict[int, Order]]:
        """Everything a call may change here, for :meth:`restore` (orders are immutable values: the book is its
        dict of orders; restore rebuilds the price indices from it)."""
        return _get_saved(self), dict(self.book.orders)

    def restore(self, saved: tuple[tuple[object, ...], dict[int, Order]]) -> None:
        values, orders = saved
        for name, value in zip(_SAVED, values, strict=True):
            setattr(self, name, value)
        book = OrderBook()
        for order in orders.values():
            book.add(order)
        self.book = book


_SAVED = tuple(name for name in SymbolState.__slots__ if name not in ("book", "instrument", "symbol"))
_get_saved = attrgetter(*_SAVED)
