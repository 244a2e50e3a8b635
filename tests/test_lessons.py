"""The concept library: every page loads, renders with its sections, its links resolve, and its worked examples are
the engine's numbers; the isolated, cross, liquidation-price and liquidation examples are recomputed here by hand from
the reference's formulas (binance-futures.md §1.1, §1.2, §1.4, §1.5, §2)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from hexdesk.service.lesson_examples import EXAMPLES, ExampleContext, usdt
from hexdesk.service.lessons import (
    REQUIRED_SECTIONS,
    LessonError,
    bundled_context,
    load_lessons,
    parse_lesson,
    render,
    search,
)

D = Decimal
TAKER = D("0.0005")  # §2 VIP 0 taker fee
MMR1 = D("0.004")  # §1.6 BTCUSDT tier 1 (notional <= 300,000): MMR 0.40%, cum 0
STEP = D("0.001")  # BTCUSDT market step size
# A fixed price and time, so the hand formulas below do not depend on the bundled data (a Monday 04:00 UTC).
FIXED = ExampleContext("BTCUSDT", D("60000.00"), 1_741_579_200_000 + 60_000)

REQUIRED_IDS = {
    "isolated-margin", "cross-margin", "leverage", "initial-margin", "maintenance-margin", "liquidation",
    "liquidation-price", "mark-price", "margin-ratio", "position-sizing", "stop-loss", "risk-reward",
    "market-order", "limit-order", "stop-market", "take-profit", "reduce-only", "post-only", "time-in-force",
    "maker-taker-fees", "funding", "slippage",
}


def test_the_library_has_every_page_the_issue_asks_for_in_its_groups():
    lessons = load_lessons()
    assert {x.id for x in lessons} >= REQUIRED_IDS
    groups = {x.id: x.group for x in lessons}
    assert groups["isolated-margin"] == "Positions & Risk"
    assert groups["time-in-force"] == "Orders"
    assert groups["slippage"] == "Costs"


@pytest.mark.parametrize("lesson", load_lessons(), ids=lambda x: x.id)
def test_every_page_renders_with_its_sections_examples_and_related_terms(lesson):
    page = render(lesson, FIXED)
    for section in (*REQUIRED_SECTIONS, "## Related terms"):
        assert section in page.markdown, section
    assert "{{" not in page.markdown
    assert lesson.examples, "every page has a worked example"
    for name in lesson.examples:
        assert page.examples[name].markdown in page.markdown
    assert lesson.related and lesson.practice
    for target in lesson.links():
        assert target in {x.id for x in load_lessons()}, f"{lesson.id} links to unknown {target}"
    for target in lesson.related:
        assert f"(lesson:{target})" in page.markdown


def test_every_example_runs_on_the_bundled_price_too():
    ctx = bundled_context()
    assert ctx.symbol == "BTCUSDT" and ctx.price > 0
    for name, fn in EXAMPLES.items():
        assert fn(ctx).markdown, name


def test_isolated_example_by_hand():
    v = EXAMPLES["isolated_long"](FIXED).values
    q, ep = v["quantity"], v["entry"]
    # 1% of 10,000 as margin at 10x: notional ~1,000 -> Q = floor(1000 / 60000, step) = 0.016
    assert q == (D(1000) / D(60000) / STEP).to_integral_value(rounding=ROUND_DOWN) * STEP == D("0.016")
    wb = q * ep / 10  # §1.5 IM = notional / leverage; isolated WB = IM
    assert v["isolated_wallet"] == wb
    assert v["entry_fee"] == q * ep * TAKER
    lp = (q * ep - wb) / (q * (1 - MMR1))  # §1.2 long, isolated, tier 1
    assert v["liquidation_price"] == lp
    # Liquidated: the wallet loses exactly the isolated margin, the rest untouched.
    assert v["wallet_before"] == D(10000) - q * ep * TAKER
    assert v["wallet_after"] == v["wallet_before"] - wb
    assert v["lost"] == wb
    page = render(load_lessons()[0], FIXED).markdown
    assert usdt(lp) in page and usdt(wb) in page


def test_cross_example_by_hand():
    v = EXAMPLES["cross_long"](FIXED).values
    q, ep = v["quantity"], v["entry"]
    assert q == D("0.333")  # 20x with 1,000 USDT margin: floor(20,000 / 60,000, 0.001)
    fee = q * ep * TAKER
    iso_wb = q * ep / 20
    assert v["isolated_liquidation_price"] == (q * ep - iso_wb) / (q * (1 - MMR1))
    assert v["isolated_lost"] == iso_wb
    cross_wb = D(10000) - fee  # the cross wallet after the entry fee
    assert v["cross_wallet"] == cross_wb
    lp = (q * ep - cross_wb) / (q * (1 - MMR1))  # §1.2, TMM1 = UPNL1 = 0, tier 1 at ~10k notional
    assert v["cross_liquidation_price"] == lp
    # §1.4: a cross liquidation closes at the bankruptcy price, where the margin balance is 0: the wallet is gone.
    assert v["cross_wallet_after"] == 0
    assert v["cross_lost"] == cross_wb


def test_liquidation_price_and_liquidation_examples_by_hand():
    v = EXAMPLES["liquidation_price"](FIXED).values
    q, ep, wb = v["quantity"], v["entry"], v["wallet"]
    assert (v["mmr"], v["cum"]) == (MMR1, 0)
    assert v["liquidation_price"] == (q * ep - wb) / (q * (1 - MMR1))

    v = EXAMPLES["liquidation_isolated"](FIXED).values
    q, ep, wb, lp = v["quantity"], v["entry"], v["isolated_wallet"], v["liquidation_price"]
    assert wb == q * ep / 20
    assert lp == (q * ep - wb) / (q * (1 - MMR1))
    assert v["maintenance_margin"] == q * v["mark"] * MMR1  # §1.1 MM = notional × MMR − cum
    assert v["margin_balance"] == wb + q * (v["mark"] - ep)  # §1.1 WB + unrealized PnL
    assert v["bankruptcy_price"] == ep - wb / q  # margin balance 0
    assert v["margin_lost"] == wb
    # §1.4: the clearance fee (1.25% of the notional) is capped by the margin left, the maintenance margin here.
    # Money is kept to 8 decimals (the engine's money(), like Binance's wallet figures).
    assert v["liquidation_fee"] == min(D("0.0125") * q * v["mark"], v["margin_balance"]).quantize(D("1e-8"))


def test_fees_and_funding_examples_by_hand():
    v = EXAMPLES["fees"](FIXED).values
    q = v["quantity"]
    assert v["taker_fee"] == q * v["taker_price"] * TAKER
    assert v["maker_fee"] == q * v["maker_price"] * D("0.0002")
    v = EXAMPLES["funding"](FIXED).values
    assert v["amount"] == -(v["mark"] * v["quantity"] * D("0.0001"))  # §2: longs pay at a positive rate


def test_search_finds_by_title_and_text():
    assert search("isolated")[0].id == "isolated-margin"
    assert "post-only" in {x.id for x in search("GTX")}
    assert search("") == load_lessons()
    assert search("nothing-matches-this") == ()


def test_a_bad_page_names_what_is_wrong(tmp_path: Path):
    with pytest.raises(LessonError, match="'title' is missing"):
        parse_lesson("---\nid: x\ngroup: Costs\n---\nbody\n", tmp_path / "x.md")
    with pytest.raises(LessonError, match="unknown example 'nope'"):
        parse_lesson("---\nid: x\ntitle: X\ngroup: Costs\n---\n{{example:nope}}\n")
    with pytest.raises(LessonError, match="group"):
        parse_lesson("---\nid: x\ntitle: X\ngroup: Other\n---\nbody\n")
