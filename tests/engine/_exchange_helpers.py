"""Shared builders for the Exchange tests (not a conftest: imported explicitly so each test says what it uses)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hexdesk.engine import Bracket, DefaultFillModel, Event, Exchange, Instrument, MarginMode, default_instruments

D = Decimal
BTC = "BTCUSDT"
ETH = "ETHUSDT"
H = 3_600_000


def exact_exchange(wallet: str = "10000", *, fees: bool = True, mode: MarginMode = MarginMode.ISOLATED,
                   instruments: dict[str, Instrument] | None = None, start_ms: int = 0) -> Exchange:
    """An Exchange whose market orders fill exactly at the last price (no spread, no volume impact)."""
    insts = instruments if instruments is not None else default_instruments()
    if not fees:
        insts = {s: dataclasses.replace(i, maker_fee=D(0), taker_fee=D(0)) for s, i in insts.items()}
    return Exchange(
        wallet_balance=D(wallet), instruments=insts, fill_model=DefaultFillModel(spread_ticks=0),
        default_margin_mode=mode, start_ms=start_ms,
    )


def eth_with_mmr(mmr: str) -> Instrument:
    """ETHUSDT with a single illustrative tier (V7 uses MMR 0.5%, cum 0)."""
    eth = default_instruments()[ETH]
    return dataclasses.replace(eth, brackets=(Bracket(1, D(0), D("1e12"), 150, D(mmr), D(0)),))


def names(events: tuple[Event, ...] | list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def of_type(events: tuple[Event, ...] | list[Event], cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]
