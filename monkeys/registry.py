"""A name → factory registry, so the CLI and run manifests can name plugins."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from monkeys.errors import MonkeysError

T = TypeVar("T")


@dataclass(frozen=True)
class PluginOption:
    """One keyword a plugin's factory takes: its name, type as written, and default (None: required)."""

    name: str
    type: str
    default: str | None


@dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    summary: str  # the first line of the factory's docstring
    options: tuple[PluginOption, ...]


def _summary(factory: Callable[..., object]) -> str:
    """The first line of the factory's own docstring (not one inherited), else of its module's."""
    own = vars(factory).get("__doc__") if isinstance(factory, type) else factory.__doc__
    if not own:
        module = sys.modules.get(factory.__module__)
        own = module.__doc__ if module is not None else ""
    lines = inspect.cleandoc(own or "").splitlines()
    return lines[0] if lines else ""


def _options(factory: Callable[..., object]) -> tuple[PluginOption, ...]:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return ()
    out = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self":
            continue
        ann = p.annotation
        kind = (
            ""
            if ann is p.empty
            else ann
            if isinstance(ann, str)
            else ann.__name__
            if isinstance(ann, type)
            else str(ann)
        )
        default = None if p.default is p.empty else repr(p.default)
        out.append(PluginOption(p.name, str(kind or "any"), default))
    return tuple(out)


class Registry(Generic[T]):
    """Maps plugin names to factories; unknown names raise a one-line error listing the known ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return deco

    def add(self, name: str, factory: Callable[..., T]) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: str) -> bool:
        return name in self._factories

    def factory(self, name: str) -> Callable[..., T]:
        """The factory registered as `name`; unknown names raise a one-line error listing the known ones."""
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise MonkeysError(f"unknown {self.kind} {name!r}; choose one of: {known}") from None

    def create(self, name: str, **kwargs: object) -> T:
        return self.factory(name)(**kwargs)

    def describe(self) -> list[PluginInfo]:
        """Every registered plugin with its summary and the options its factory takes."""
        out = []
        for name in self.names():
            factory = self._factories[name]
            out.append(PluginInfo(self.kind, name, _summary(factory), _options(factory)))
        return out
