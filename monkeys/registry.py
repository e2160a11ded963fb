"""A name → factory registry, so the CLI and run manifests can name plugins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from monkeys.errors import MonkeysError

T = TypeVar("T")


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
