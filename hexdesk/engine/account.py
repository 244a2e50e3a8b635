"""The mutable per-symbol state the Exchange keeps, and the money rounding rule.

Money (wallets, fees, realized PnL, funding, margin posted) is rounded to 8 decimals, Binance's USDT precision,
at the moment it moves. Every balance is then a sum of 8-decimal amounts, which Decimal adds exactly: money is
conserved to the last digit and replaying the event log gives the same balances. Prices, entry prices and
liquidation prices are not money and keep full Decimal precision.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hexdesk.engine.book import NEG_INF, POS_INF, OrderBook
from hexdesk.engine.enums import MarginMode
from hexdesk.engine.instruments import Instrument

ZERO = Decimal(0)
_CENT_OF_SATOSHI = Decimal("1e-8")


def money(amount: Decimal) -> Decimal:
    """An amount of USDT as it moves between balances: 8 decimals, half up."""
    return amount.quantize(_CENT_OF_SATOSHI, rounding=ROUND_HALF_UP)


class SymbolState:
    """Market, settings, position and open orders of one symbol, plus the caches that keep a tick O(1).

    ``bar_volume`` is the liquidity estimate of the latest tick (base volume per minute from closed candles, see
    fill_model; None: no volume model), which prices market orders, and ``tick_ms`` that tick's time, so the next
    tick's segment knows its duration (a resting limit's share of the liquidity, ``fill_model.segment_volume``).

    Caches (recomputed by the Exchange whenever the position, its wallet or the book changes):

    - ``down_last`` / ``up_last`` / ``down_mark`` / ``up_mark``: the gates of :class:`OrderBook`, with the
      isolated liquidation price folded into the mark gates (a long's LP into ``down_mark``, a short's into
      ``up_mark``), so an isolated liquidation check costs no extra comparison;
    - ``upnl`` / ``mm``: this symbol's unrealized PnL and maintenance margin at ``mark``, for the cross running
      totals (only maintained while the position is cross);
    - ``mm_floor`` / ``mm_cap`` / ``mmr`` / ``cum``: the bracket the current notional falls in, so a tick
      re-looks it up only when the notional leaves it.
    """

    __slots__ = (
        "bar_volume",
        "book",
        "cross_open",
        "cum",
        "down_last",
        "down_mark",
        "entry",
        "funding_rate",
        "instrument",
        "iso_wallet",
        "last",
        "leverage",
        "liq_price",
        "margin_mode",
        "mark",
        "mm",
        "mm_cap",
        "mm_floor",
        "mmr",
        "next_funding_ms",
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
        self.down_last = NEG_INF
        self.up_last = POS_INF
        self.down_mark = NEG_INF
        self.up_mark = POS_INF

    @property
    def is_isolated(self) -> bool:
        return self.margin_mode is MarginMode.ISOLATED

    def maintenance_at(self, mark: Decimal) -> Decimal:
        """MM of the position at ``mark``, re-looking up the bracket only when the notional leaves the cached one."""
        notional = abs(self.qty) * mark
        if not self.mm_floor <= notional <= self.mm_cap:
            b = self.instrument.bracket_for_notional(notional)
            self.mm_floor, self.mm_cap = b.notional_floor, b.notional_cap
            self.mmr, self.cum = b.maint_margin_ratio, b.cum
        return notional * self.mmr - self.cum

    def refresh_gates(self) -> None:
        """Recompute the four gates from the book and the isolated liquidation price."""
        down_last, up_last, down_mark, up_mark = self.book.gates()
        lp = self.liq_price
        if lp is not None and self.qty and self.is_isolated:
            if self.qty > 0:
                down_mark = max(down_mark, lp)
            else:
                up_mark = min(up_mark, lp)
        self.down_last, self.up_last, self.down_mark, self.up_mark = down_last, up_last, down_mark, up_mark
