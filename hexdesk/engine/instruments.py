"""Instruments as data: trading rules and maintenance-margin brackets parsed from Binance's own response shapes.

Tiers and filters change without notice, so nothing here is hard-coded: a dated snapshot ships in
``data/`` and a live ``exchangeInfo`` / ``leverageBracket`` / ``commissionRate`` response parses the same way.
Reading the engine's own packaged snapshot is the only file access the engine does.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

SNAPSHOT = "binance-usdm-2026-09.json"


def _d(value: Any) -> Decimal:
    """Decimal from a JSON string or number without float noise."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class Bracket:
    """One maintenance-margin tier: positions with floor < notional <= cap use this MMR and cum."""

    bracket: int
    notional_floor: Decimal
    notional_cap: Decimal
    max_leverage: int
    maint_margin_ratio: Decimal
    cum: Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """A USDⓈ-M perpetual's trading rules (exchangeInfo filters), fees and brackets."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    multiplier_up: Decimal
    multiplier_down: Decimal
    max_num_orders: int
    price_precision: int
    quantity_precision: int
    maker_fee: Decimal
    taker_fee: Decimal
    liquidation_fee: Decimal
    market_take_bound: Decimal
    trigger_protect: Decimal
    funding_rate_cap: Decimal
    funding_rate_floor: Decimal
    funding_interval_hours: int
    brackets: tuple[Bracket, ...]

    @property
    def max_leverage(self) -> int:
        return self.brackets[0].max_leverage

    def bracket_for_notional(self, notional: Decimal) -> Bracket:
        """The tier a position of this notional falls in ("floor < notional <= cap"; 0 is tier 1)."""
        for b in self.brackets:
            if notional <= b.notional_cap:
                return b
        return self.brackets[-1]

    def max_notional_for_leverage(self, leverage: int) -> Decimal:
        """The largest position notional allowed at this leverage (-2027 above it); remembered per bracket table
        and leverage (every order's leverage check asks)."""
        key = (id(self.brackets), leverage)
        known = _MAX_NOTIONAL.get(key)
        if known is not None and known[0] is self.brackets:
            return known[1]
        allowed = [b.notional_cap for b in self.brackets if b.max_leverage >= leverage]
        cap = max(allowed) if allowed else Decimal(0)
        if len(_MAX_NOTIONAL) >= _MAX_NOTIONAL_SIZE:
            _MAX_NOTIONAL.clear()
        _MAX_NOTIONAL[key] = (self.brackets, cap)  # (the table itself is kept: its id stays its own)
        return cap

    def round_price(self, price: Decimal) -> Decimal:
        """Round down onto the tick grid (used by risk tools to suggest a valid price)."""
        return (price // self.tick_size) * self.tick_size

    def round_qty(self, qty: Decimal) -> Decimal:
        """Round down onto the step grid: sizing never rounds a risk up."""
        return (qty // self.step_size) * self.step_size


_MAX_NOTIONAL: dict[tuple[int, int], tuple[tuple[Bracket, ...], Decimal]] = {}
_MAX_NOTIONAL_SIZE = 4096


def _by_symbol(rows: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {row["symbol"]: row for row in rows}


def parse_brackets(rows: Iterable[Mapping[str, Any]]) -> tuple[Bracket, ...]:
    """Brackets from ``GET /fapi/v1/leverageBracket``'s ``brackets`` list, checked for the cum recursion."""
    out = tuple(
        sorted(
            (
                Bracket(
                    bracket=int(r["bracket"]),
                    notional_floor=_d(r["notionalFloor"]),
                    notional_cap=_d(r["notionalCap"]),
                    max_leverage=int(r["initialLeverage"]),
                    maint_margin_ratio=_d(r["maintMarginRatio"]),
                    cum=_d(r["cum"]),
                )
                for r in rows
            ),
            key=lambda b: b.bracket,
        )
    )
    for prev, cur in itertools.pairwise(out):
        expected = cur.notional_floor * (cur.maint_margin_ratio - prev.maint_margin_ratio) + prev.cum
        if expected != cur.cum:
            raise ValueError(f"bracket {cur.bracket}: cum {cur.cum} breaks the recursion (expected {expected})")
    return out


def parse_instruments(
    exchange_info: Mapping[str, Any],
    leverage_brackets: Iterable[Mapping[str, Any]],
    commission_rates: Iterable[Mapping[str, Any]],
    funding_info: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Instrument]:
    """Instruments from Binance's response shapes; symbols without brackets are left out."""
    brackets = _by_symbol(leverage_brackets)
    fees = _by_symbol(commission_rates)
    funding = _by_symbol(funding_info)
    out: dict[str, Instrument] = {}
    for s in exchange_info["symbols"]:
        symbol = s["symbol"]
        if symbol not in brackets:
            continue
        f = {flt["filterType"]: flt for flt in s["filters"]}
        fee = fees.get(symbol, {"makerCommissionRate": "0.0002", "takerCommissionRate": "0.0005"})
        fund = funding.get(symbol, {})
        out[symbol] = Instrument(
            symbol=symbol,
            base_asset=s["baseAsset"],
            quote_asset=s["quoteAsset"],
            tick_size=_d(f["PRICE_FILTER"]["tickSize"]),
            min_price=_d(f["PRICE_FILTER"]["minPrice"]),
            max_price=_d(f["PRICE_FILTER"]["maxPrice"]),
            step_size=_d(f["LOT_SIZE"]["stepSize"]),
            min_qty=_d(f["LOT_SIZE"]["minQty"]),
            max_qty=_d(f["LOT_SIZE"]["maxQty"]),
            market_step_size=_d(f["MARKET_LOT_SIZE"]["stepSize"]),
            market_min_qty=_d(f["MARKET_LOT_SIZE"]["minQty"]),
            market_max_qty=_d(f["MARKET_LOT_SIZE"]["maxQty"]),
            min_notional=_d(f["MIN_NOTIONAL"]["notional"]),
            multiplier_up=_d(f["PERCENT_PRICE"]["multiplierUp"]),
            multiplier_down=_d(f["PERCENT_PRICE"]["multiplierDown"]),
            max_num_orders=int(f.get("MAX_NUM_ORDERS", {"limit": 200})["limit"]),
            price_precision=int(s["pricePrecision"]),
            quantity_precision=int(s["quantityPrecision"]),
            maker_fee=_d(fee["makerCommissionRate"]),
            taker_fee=_d(fee["takerCommissionRate"]),
            liquidation_fee=_d(s["liquidationFee"]),
            market_take_bound=_d(s["marketTakeBound"]),
            trigger_protect=_d(s["triggerProtect"]),
            funding_rate_cap=_d(fund.get("adjustedFundingRateCap", "0.003")),
            funding_rate_floor=_d(fund.get("adjustedFundingRateFloor", "-0.003")),
            funding_interval_hours=int(fund.get("fundingIntervalHours", 8)),
            brackets=parse_brackets(brackets[symbol]["brackets"]),
        )
    return out


@dataclass(frozen=True, slots=True)
class InstrumentSnapshot:
    """A dated set of instruments and where each table came from."""

    captured_at: str
    sources: Mapping[str, str]
    instruments: Mapping[str, Instrument]


def parse_snapshot(doc: Mapping[str, Any]) -> InstrumentSnapshot:
    return InstrumentSnapshot(
        captured_at=doc["capturedAt"],
        sources=dict(doc.get("sources", {})),
        instruments=parse_instruments(
            doc["exchangeInfo"], doc["leverageBracket"], doc["commissionRate"], doc.get("fundingInfo", ())
        ),
    )


@cache
def bundled_snapshot() -> InstrumentSnapshot:
    """The snapshot shipped with the engine (read once)."""
    text = resources.files("hexdesk.engine").joinpath(f"data/{SNAPSHOT}").read_text(encoding="utf-8")
    return parse_snapshot(json.loads(text))


def default_instruments() -> dict[str, Instrument]:
    """BTCUSDT, ETHUSDT, ... from the bundled snapshot."""
    return dict(bundled_snapshot().instruments)
