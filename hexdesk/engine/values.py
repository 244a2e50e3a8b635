"""Frozen value classes that are cheap to build: the engine makes several orders, fills, positions and events per
request, and a frozen dataclass's own ``__init__`` spends most of its time finding ``object.__setattr__`` for each
field (a frozen class refuses plain assignment, so its ``__init__`` goes round it, field by field).

:func:`quick_init` gives a frozen, slotted dataclass an ``__init__`` with the same signature and defaults that is
two to four times faster, and nothing else changes: ``fields``, ``replace``, ``asdict``, equality, hashing, ``repr``,
pickling and ``FrozenInstanceError`` on assignment are the dataclass's own. Two ways, by the class's bases:

- a class based on ``object`` alone (orders, fills, positions, requests) is filled in as its *builder*: a plain
  class with exactly the same slots, which Python lets an instance switch to and back (``__class__`` assignment
  between classes of the same layout). For the few statements of ``__init__`` the new instance is a builder, whose
  slots take plain assignments at full speed; its last statement makes it the frozen class again. Nothing can
  see it in between: ``__init__`` only stores the arguments;
- a class with a dataclass base (the events, all based on ``Event``) stores each field through its slot's
  descriptor, what ``object.__setattr__`` ends up doing, without looking it up each time. (A builder would have to
  be an ``Event`` subclass itself, and the journal's codec finds the event classes by their subclasses.)

:func:`evolve` is ``dataclasses.replace`` for such a class, without its per-call field inspection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

__all__ = ["evolve", "quick_init"]

_T = TypeVar("_T")
_getters: dict[type, tuple[dict[str, int], Callable[[Any], tuple[Any, ...]]]] = {}


def quick_init(cls: type[_T]) -> type[_T]:
    """Replace the dataclass ``__init__`` of ``cls`` (frozen, slotted; plain fields, no ``__post_init__``)."""
    if not (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__}: quick_init needs a frozen dataclass with slots")
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(not f.init or f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__}: quick_init handles plain fields only")
    names = [f.name for f in fields]
    original = cls.__init__
    if cls.__bases__ == (object,) and tuple(cls.__slots__) == tuple(names):
        builder = type(f"{cls.__name__}Builder", (), {"__slots__": cls.__slots__, "__module__": cls.__module__})
        namespace: dict[str, Any] = {"_become": object.__setattr__, "_Builder": builder, "_Frozen": cls}
        body = (
            "    _become(self, '__class__', _Builder)\n"
            + "".join(f"    self.{name} = {name}\n" for name in names)
            + "    self.__class__ = _Frozen\n"
        )
    else:
        namespace = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
        body = "".join(f"    _set_{name}(self, {name})\n" for name in names) or "    pass\n"
    exec(f"def __init__(self, {', '.join(names)}):\n{body}", namespace)
    init = namespace["__init__"]
    init.__defaults__ = original.__defaults__
    init.__qualname__ = original.__qualname__
    init.__doc__ = original.__doc__
    init.__annotations__ = dict(getattr(original, "__annotations__", {}))
    cls.__init__ = init  # type: ignore[misc]
    getter = attrgetter(*names) if len(names) > 1 else (lambda v: (getattr(v, names[0]),))
    _getters[cls] = ({name: i for i, name in enumerate(names)}, getter)
    return cls


def evolve(value: _T, **changes: Any) -> _T:
    """A copy of ``value`` (a :func:`quick_init` class) with ``changes``: ``dataclasses.replace``, faster (the
    fields are passed by position). A name that is not a field is a TypeError, as there."""
    index, values = _getters[type(value)]
    args = list(values(value))
    for name, new in changes.items():
        i = index.get(name)
        if i is None:
            raise TypeError(f"{type(value).__name__}.__init__() got an unexpected keyword argument {name!r}")
        args[i] = new
    return type(value)(*args)
