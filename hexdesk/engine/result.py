"""What a mutating call changed: the order it concerns, the rejection if refused, and the events it emitted."""

from __future__ import annotations

from dataclasses import dataclass

from hexdesk.engine.errors import Rejection
from hexdesk.engine.events import Event
from hexdesk.engine.orders import Order
from hexdesk.engine.values import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Result:
    """The answer of ``submit`` / ``cancel`` / ``amend`` (like Anki's OpChanges: the caller redraws from it).

    ``ok`` is False when Binance would have refused the request; ``rejection`` then says why and nothing but the
    ``OrderRejected`` event (submit only) changed. ``order`` is the order as it stands after the call.
    """

    ok: bool
    order: Order | None = None
    rejection: Rejection | None = None
    events: tuple[Event, ...] = ()
