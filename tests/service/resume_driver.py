"""A deterministic trader for the SIGKILL tests: ``python -m tests.service.resume_driver DB MINUTES [--trace]``.

It opens the last active session of the journal DB (resuming it exactly) or starts one, then feeds the bundled
BTC+ETH replay as fast as it can, without a GUI, through ``TradingDesk`` directly, until the replay clock reaches
MINUTES after the start, trading on the way. Everything it does is a function of the replay position, never of
the process: batches end at every ETHUSDT candle close (so a resumed run cuts the same batches), and the orders
of a minute are decided from that minute alone and carry client order ids, so an action the killed run already
committed is not repeated. It prints ``ready`` once the session is open and, at the end, one JSON line: the
final state of the desk (tests/service/test_resume_kill.py compares it with an unkilled run's).
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.events import OrderAccepted, OrderRejected
from hexdesk.engine.orders import OrderRequest
from hexdesk.engine.restore import capture_market
from hexdesk.service.defaults import HISTORY_MS
from hexdesk.service.desk import TradingDesk
from hexdesk.service.sessions import SessionManager, SessionSpec
from hexdesk.storage.journal import Journal

DATASETS = ("BTCUSDT-2025-03", "ETHUSDT-2025-03")
START_MS = 1_740_787_200_000 + HISTORY_MS + 6 * 3_600_000  # 2025-03-02T06:00Z: the 08:00 funding comes soon


def _client_ids(desk: TradingDesk) -> set[str]:
    out: set[str] = set()
    for ev in desk.exchange.events:
        if isinstance(ev, OrderAccepted):
            out.add(ev.order.client_order_id)
        elif isinstance(ev, OrderRejected) and ev.request.client_order_id:
            out.add(ev.request.client_order_id)
    return out


def _act(desk: TradingDesk, minute: int, done: set[str]) -> None:
    """The trader's decision at the close of ``minute`` (a pure function of the minute and the desk's state): at
    most one desk call, and one that a resumed run can repeat harmlessly (keyed by a client order id, or a no-op
    the second time: the same leverage, the same margin mode, a cancel of an order no longer open)."""
    rng = random.Random(minute)
    if minute % 3:
        return
    symbol = "BTCUSDT" if rng.random() < 0.6 else "ETHUSDT"
    last = desk.last_price(symbol)
    if last is None:
        return
    inst = desk.instrument(symbol)
    choice = rng.randrange(8)
    cid = f"d{minute}"
    if cid in done:
        return
    notional = Decimal(rng.choice([300, 800, 2000, 5000]))
    qty = inst.round_qty(notional / last)
    side = Side.BUY if rng.random() < 0.5 else Side.SELL
    away = Decimal(1) + (Decimal(rng.randrange(1, 40)) / 10_000) * (-side.sign)
    tp = inst.round_price(last * (Decimal(1) + Decimal("0.004") * side.sign))
    sl = inst.round_price(last * (Decimal(1) - Decimal("0.003") * side.sign))
    done.add(cid)
    if choice == 0:
        desk.submit(OrderRequest(symbol, side, OrderType.MARKET, quantity=qty, client_order_id=cid))
    elif choice == 1:  # a resting entry with TP/SL attached (waits in Exchange._attached until it fills)
        price = inst.round_price(last * away)
        desk.submit(
            OrderRequest(
                symbol, side, OrderType.LIMIT, quantity=qty, price=price, time_in_force=TimeInForce.GTC,
                take_profit=tp, stop_loss=sl, client_order_id=cid,
            )
        )
    elif choice == 2:
        desk.submit(
            OrderRequest(symbol, side, OrderType.MARKET, quantity=qty, take_profit=tp, stop_loss=sl,
                         client_order_id=cid)
        )
    elif choice == 3:  # cancel what an earlier minute placed, if still open (again: nothing to do)
        target = f"d{minute - 3 * rng.randrange(1, 8)}"
        for o in desk.open_orders():
            if o.client_order_id.startswith(target):
                desk.cancel(o.symbol, o.order_id)
                break
    elif choice == 4:
        qty_open = desk.position(symbol).quantity
        if qty_open:
            close = Side.SELL if qty_open > 0 else Side.BUY
            desk.submit(
                OrderRequest(symbol, close, OrderType.MARKET, quantity=abs(qty_open), reduce_only=True,
                             client_order_id=cid)
            )
    elif choice == 5:
        desk.set_leverage(symbol, rng.choice([2, 5, 10, 20, 50, 75]))
    elif choice == 6:
        desk.set_margin_mode(symbol, rng.choice([MarginMode.CROSS, MarginMode.ISOLATED]))
    else:
        stop = inst.round_price(last * (Decimal(1) + Decimal("0.002") * side.sign))
        desk.submit(OrderRequest(symbol, side, OrderType.STOP_MARKET, quantity=qty, stop_price=stop,
                                 client_order_id=cid))


def fingerprint(desk: TradingDesk) -> dict[str, object]:
    """Everything the final state comparison looks at: values compared with == (Decimals by value: a flat
    isolated wallet may be 0 or 0E-8 inside the engine, which no event and no behaviour can tell apart)."""
    ex = desk.exchange
    return {
        "seq": ex.events[-1].seq,
        "state": ex.state(),
        "account": ex.account(),
        "positions": desk.positions(),
        "orders": desk.open_orders(),
        "attached": repr(sorted(ex._attached.items())),
        "market": json.dumps(capture_market(ex).to_json(), sort_keys=True),
        "ids": [ex._next_order_id, ex._next_trade_id],
        "funding": repr([(s, ex.funding_rate(s)) for s in ex.instruments]),
        "clock": desk.clock_ms,
    }


def run(db: Path, minutes: int, on_ready: Callable[[], None] | None = None) -> dict[str, object]:
    """Trade the session of ``db`` up to ``minutes`` after the start; returns the final fingerprint."""
    journal = Journal.open(db)
    manager = SessionManager(journal)
    desk = manager.resume_last(paused=True) or manager.new(
        SessionSpec(name="kill test", datasets=DATASETS, start_ms=START_MS)
    )
    if on_ready is not None:
        on_ready()
    end_ms = START_MS + minutes * 60_000
    done = _client_ids(desk)
    replay = desk.replay
    assert replay is not None
    last = desk._last_tick
    if last is not None and last.symbol == "ETHUSDT" and last.step == 3:
        _act(desk, last.ts_ms // 60_000, done)  # the decisions of the batch the killed run ended on
    batch = []
    for tick in replay.ticks():
        if tick.ts_ms >= end_ms:
            break
        batch.append(tick)
        if tick.symbol == "ETHUSDT" and tick.step == 3:
            desk.feed(batch)
            batch = []
            cut = desk._last_tick
            if cut is not None and cut.symbol == "ETHUSDT" and cut.step == 3:
                _act(desk, cut.ts_ms // 60_000, done)
    if batch:
        desk.feed(batch)
    final = fingerprint(desk)
    desk.close()
    journal.close()
    return final


if __name__ == "__main__":
    final = run(Path(sys.argv[1]), int(sys.argv[2]), lambda: print("ready", flush=True))
    print(json.dumps(final, sort_keys=True, default=repr))
