"""A registry: classes by name, each imported the first time it is asked for.

The problems (``problems.PROBLEMS``) and the weighting schemes (``weighting.WEIGHTINGS``) are each a
``Registry``. A package declares every class it holds by its name and where it lives, one line each
(``declare("burgers", "pinn_tutorial.problems.burgers:Burgers")``), so that listing the names (for the
command line, its help and its checks) imports nothing, and a run imports only the modules it uses. A class
defined elsewhere, in a researcher's own script, registers itself with the decorator ``register``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any


class Registry(Mapping[str, type]):
    """Classes by their ``name``, in the order they were declared or registered."""

    def __init__(self, kind: str):
        self.kind = kind  # what the classes are, for messages: "problem", "weighting"
        self._classes: dict[str, type | str] = {}  # a class, or "module:Class" until it is first asked for

    def declare(self, name: str, where: str) -> None:
        """Name the class ``where`` ("module:Class") defines, without importing the module yet."""
        self._classes[name] = where

    def register(self, cls: type) -> type:
        """A class decorator: the class under its ``name``. Registering a second class under a name already
        taken is a ValueError (re-registering the same class, as a module reloads, is not)."""
        known = self._classes.get(cls.name, cls)
        if isinstance(known, str):
            known = self._load(cls.name, known) if known != f"{cls.__module__}:{cls.__qualname__}" else cls
        if known is not cls:
            raise ValueError(f"a {self.kind} named {cls.name!r} is registered already ({known.__qualname__})")
        self._classes[cls.name] = cls
        return cls

    def _load(self, name: str, where: str) -> type:
        module, _, qualname = where.partition(":")
        cls = getattr(importlib.import_module(module), qualname)
        if getattr(cls, "name", None) != name:
            raise TypeError(f"{where} is declared as the {self.kind} {name!r} but calls itself "
                            f"{getattr(cls, 'name', None)!r}")
        self._classes[name] = cls
        return cls

    def class_named(self, qualname: str) -> type | None:
        """The declared class whose Python name is ``qualname`` (imported now), or None: a package's
        ``__getattr__`` gives its classes by their names with it."""
        for name, where in list(self._classes.items()):
            if isinstance(where, type) and where.__qualname__ == qualname:
                return where
            if isinstance(where, str) and where.partition(":")[2] == qualname:
                return self._load(name, where)
        return None

    def __getitem__(self, name: str) -> type:
        where = self._classes[name]
        return self._load(name, where) if isinstance(where, str) else where

    def __contains__(self, name: Any) -> bool:  # without importing (Mapping's default would import the class)
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._classes))

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._classes)})"


def exported(registry: Registry, package: str, attr: str) -> Any:
    """What ``from <package> import <attr>`` gives when ``attr`` is not defined yet: a declared class, imported
    now. Anything else is an AttributeError, as for any module."""
    cls = registry.class_named(attr)
    if cls is None:
        raise AttributeError(f"module {package!r} has no attribute {attr!r}")
    return cls
