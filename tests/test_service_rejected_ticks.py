"""The desk's feed skips a tick the engine refuses, counts it, and goes on with the batch (issue 6, point 5)."""

from dataclasses import replace
from decimal import Decimal

from hexdesk.service import DeskChange, open_replay_session


def test_feed_skips_and_counts_a_refused_tick_and_applies_the_rest() -> None:
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    gen = desk.replay.ticks()
    good = [next(gen) for _ in range(3)]
    bad_price = replace(good[1], price=Decimal("NaN"))
    bad_volume = replace(good[1], liquidity=Decimal("-1"))  # the liquidity estimate is what the engine is given
    changes: list[DeskChange] = []
    desk.subscribe(changes.append)

    change = desk.feed([good[0], bad_price, bad_volume, good[1], good[2]])

    assert desk.rejected_ticks == 2
    assert desk.exchange.rejected_ticks == 2
    assert change.ticks == (good[0], good[1], good[2])  # the chart never sees the refused ones
    assert changes == [change]
    assert desk.last_price("BTCUSDT") == good[2].price
