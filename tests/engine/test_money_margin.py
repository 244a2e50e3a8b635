"""Margin formulas at their edges (reference §1.1 MM = |notional| × MMR − cum, §1.2 LP, margin ratio = MM / MB).
Numbers by hand in the comments; the main vectors V1–V7 are in test_margin.py."""

from __future__ import annotations

from hexdesk.engine import default_instruments
from hexdesk.engine.margin import (
    bankruptcy_price,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
    open_loss,
    order_cost,
)
from tests.engine._exchange_helpers import BTC, D

INST = default_instruments()[BTC]


def test_maintenance_margin_of_a_short_uses_the_size_of_the_notional() -> None:
    # A short's signed notional −60,000: MM = |−60,000| × 0.4% − 0 = 240; tier 2 at −500,000: 500,000 × 0.5% − 300.
    assert maintenance_margin(INST, D("-60000")) == D("240")
    assert maintenance_margin(INST, D("-500000")) == D("2200")
    assert maintenance_margin(INST, D("500000")) == D("2200")


def test_a_long_liquidation_price_below_one_dollar_is_still_a_price() -> None:
    # Long 1 @ 60,000 with wallet 59,999.502: LP = (60,000 − 59,999.502) / 0.996 = 0.498 / 0.996 = 0.5.
    assert liquidation_price(INST, D(1), D(60000), D("59999.502")) == D("0.5")
    # With wallet ≥ notional there is none ("--"): 60,000 covers the whole position.
    assert liquidation_price(INST, D(1), D(60000), D(60000)) is None


def test_a_short_always_has_a_liquidation_price() -> None:
    # Short 1 @ 60,000 with a huge wallet 1,000,000: the tier-1 solution (60,000 + 1,000,000) / 1.004 = 1,055,776.89
    # has a notional in tier 3 (800k–3M: MMR 0.65%, cum 1,500), so the tier re-check gives
    # LP = (1,000,000 + 1,500 + 60,000) / (1 × 1.0065) = 1,061,500 / 1.0065 = 1,054,644.8 (also in tier 3).
    assert liquidation_price(INST, D(-1), D(60000), D(1000000)) == D(1061500) / D("1.0065")


def test_a_short_of_a_bankrupt_cross_account_has_no_liquidation_price() -> None:
    # Cross short 1 @ 60,000, wallet 1,000, other positions' UPNL −70,000: every tier's solution
    # (1,000 − 70,000 + cum + 60,000) / (1 + MMR) is negative: no price ("--", §1.2), not a negative one.
    assert liquidation_price(INST, D(-1), D(60000), D(1000), other_upnl=D(-70000)) is None


def test_margin_ratio_edges() -> None:
    # MM 0.4 / MB 0.5 = 0.8 (a small balance is still a balance); MB 0 with MM > 0: infinite; nothing at all: 0.
    assert margin_ratio(D("0.4"), D("0.5")) == D("0.8")
    assert margin_ratio(D("0.4"), D(0)) == D("Infinity")
    assert margin_ratio(D(0), D(-1)) == 0


def test_bankruptcy_price_edges() -> None:
    # Long 2 @ 100 with wallet 50: 100 − 50 / 2 = 75; with wallet 200 it would be 0: none. Short: 100 + 25 = 125.
    assert bankruptcy_price(D(2), D(100), D(50)) == D(75)
    assert bankruptcy_price(D(2), D(100), D(200)) is None
    assert bankruptcy_price(D(-2), D(100), D(50)) == D(125)
    assert bankruptcy_price(D(0), D(100), D(50)) is None
    assert bankruptcy_price(D(1), D(100), D("99.5")) == D("0.5")  # below one dollar is still a price
    # Cross: the other positions' UPNL counts as wallet: long 1 @ 100, wallet 30, UPNL1 −10 → 100 − 20 = 80.
    assert bankruptcy_price(D(1), D(100), D(30), D(-10)) == D(80)


def test_cost_to_open_of_the_reference_example() -> None:
    # §1.5: 1 BTC at 9,253.30, mark 9,259.84, 20x: IM 462.665; the long has no open loss, the short 6.54.
    assert open_loss(1, D(1), D("9253.30"), D("9259.84")) == 0
    assert open_loss(-1, D(1), D("9253.30"), D("9259.84")) == D("6.54")
    assert order_cost(-1, D(1), D("9253.30"), D("9259.84"), 20) == D("462.665") + D("6.54")
    assert order_cost(-1, D(-1), D("9253.30"), D("9259.84"), 20) == D("462.665") + D("6.54")
