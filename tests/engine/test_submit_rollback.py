"""A submit that fails half-way leaves the account exactly as it was, whatever step failed.

The submit path was made faster (docs/engine.md, "Speed"): a MARKET order's fills are priced and margin-checked
once, the gates are refreshed once per fill, values are built by ``quick_init``. These tests make each step of
the path fail in turn (an ArithmeticError, as a fill model that cannot price would raise) and check that the
savepoint restores every slot of every symbol, the books, the ids, the attached TP/SL and the event log, and
that the same request afterwards gives exactly the events it gives on an account where nothing failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hexdesk.engine import Exchange, OrderRequest, Side
from hexdesk.engine.errors import ErrorCode
from tests.engine._exchange_helpers import BTC, D, H

# Every step a submit goes through after its savepoint, in the order it takes them.
STEPS = [
    "_order_context",
    "_matching_rejection",
    "_isolated_taker_fills",
    "_can_post_isolated",
    "_new_order",
    "_start",
    "_execute",
    "_fill_once",
    "_apply_fill",
    "_position_changed",
    "_snapshot",
    "_after_position_change",
    "_cancel_order",
    "_place_attached",
    "_check_isolated",
    "_check_cross",
]


def _account() -> Exchange:
    """A long 0.05 BTC at 10x isolated with its attached stop resting, and an ETH limit order elsewhere."""
    ex = Exchange(wallet_balance=D("10000"))
    ex.set_leverage(BTC, 10)
    ex.on_tick(BTC, H, D("80000.0"), bar_volume=D("30"))
    ex.on_tick("ETHUSDT", H, D("2000.00"), bar_volume=D("300"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.050"), stop_loss=D("79000.0"))).ok
    assert ex.submit(OrderRequest.limit("ETHUSDT", Side.BUY, D("0.100"), D("1900.00"))).ok
    ex.on_tick(BTC, H + 60_000, D("80100.0"), bar_volume=D("30"))
    return ex


REQUESTS = {
    "close": OrderRequest.market(BTC, Side.SELL, D("0.050"), reduce_only=True),
    "flip with a stop": OrderRequest.market(BTC, Side.SELL, D("0.100"), stop_loss=D("81000.0")),
    "add with a stop": OrderRequest.market(BTC, Side.BUY, D("0.020"), stop_loss=D("79500.0")),
}


def _everything(ex: Exchange) -> tuple[Any, ...]:
    """Every piece of state a submit may touch, by value (slots of each symbol, books, ids, totals, the log)."""
    symbols = tuple(
        (name, st.save()[0], tuple(sorted(st.book.orders.items())), st.book.gates())
        for name, st in sorted(ex._state.items())
    )
    return (
        symbols,
        ex._cross_wallet, ex._insurance_cover, ex._cross_upnl, ex._cross_mm,
        tuple(ex._cross_open), tuple(ex._open_positions), tuple(sorted(ex._attached.items())),
        ex._next_order_id, ex._next_trade_id, ex._seq, ex._next_funding_ms, ex._walk,
        tuple(repr(e) for e in ex.events), tuple(ex._pending),
        ex.state(), ex.account(),
    )


def _failing(step: str, calls: list[str]) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        calls.append(step)
        raise ArithmeticError(f"{step} failed")

    return fail


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("request_name", list(REQUESTS))
def test_a_submit_failing_at_any_step_changes_nothing(step: str, request_name: str) -> None:
    request = REQUESTS[request_name]
    control = _account()
    expected = control.submit(request)
    assert expected.ok, expected.rejection

    ex = _account()
    before = _everything(ex)
    calls: list[str] = []
    setattr(ex, step, _failing(step, calls))  # the instance attribute shadows the method for this account only
    seen: list[object] = []
    ex.subscribe(seen.append)
    result = ex.submit(request)
    delattr(ex, step)
    if not calls:  # this request never takes that step (a close places no stop, a plain add cancels none)
        assert result.ok
        return
    assert not result.ok and result.rejection is not None
    assert result.rejection.code is ErrorCode.NEW_ORDER_REJECTED
    assert result.events == () and seen == []
    assert _everything(ex) == before
    # The same request now: the same events as on the account where nothing failed (ids, seq, prices, margin).
    again = ex.submit(request)
    assert [repr(e) for e in again.events] == [repr(e) for e in expected.events]
    assert _everything(ex) == _everything(control)


@pytest.mark.parametrize("step", STEPS)
def test_every_step_is_taken_by_one_of_the_requests(step: str) -> None:
    """The table above is the path: each step is reached by at least one request (else it tests nothing)."""
    reached = False
    for request in REQUESTS.values():
        ex = _account()
        calls: list[str] = []
        setattr(ex, step, _failing(step, calls))
        ex.submit(request)
        reached = reached or bool(calls)
    assert reached, step
