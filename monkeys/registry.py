"""A name → factory registry, so the CLI and run manifests can name plugins, built in or installed.

A name that is not built in is looked up among the installed packages' entry points of the registry's group
(`monkeys.tasks`, `monkeys.verifiers`, `monkeys.engines`, `monkeys.sandboxes`, `monkeys.scorers`), so a
plugin is one module in its author's package plus one entry point. Options given as `key=value` strings
(`-T/-V/-E` on the command line) are typed by the factory's own signature.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from monkeys.errors import PluginError, UsageError

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


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

    def __init__(
        self,
        kind: str,
        group: str | None = None,
        base: type | None = None,
        lazy: Mapping[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.group = group  # the entry-point group searched for names that are not built in
        self.base = base  # what every built object must be an instance of (the seam's contract)
        self._factories: dict[str, Callable[..., T]] = {}
        # built-ins named as "module:attribute", imported on first use like entry points
        self._lazy: dict[str, str] = dict(lazy or {})

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return deco

    def add(self, name: str, factory: Callable[..., T]) -> None:
        self._factories[name] = factory

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        if self.group is None:
            return {}
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=self.group)}

    def names(self) -> list[str]:
        """Built-in and installed names (installed plugins are listed without being imported)."""
        return sorted(set(self._factories) | set(self._lazy) | set(self._entry_points()))

    def __contains__(self, name: object) -> bool:
        return name in self._factories or name in self._lazy or name in self._entry_points()

    def factory(self, name: str) -> Callable[..., T]:
        """The factory registered as `name`, else the installed entry point of that name."""
        found = self._factories.get(name)
        if found is not None:
            return found
        if name in self._lazy:
            module, _, attr = self._lazy[name].partition(":")
            loaded = vars(importlib.import_module(module))[attr]
            self._factories.setdefault(name, loaded)
            return self._factories[name]
        ep = self._entry_points().get(name)
        if ep is None:
            known = ", ".join(self.names()) or "none"
            raise PluginError(f"unknown {self.kind} {name!r}; choose one of: {known}")
        try:
            loaded = ep.load()
        except Exception as exc:
            raise PluginError(
                f"{self.kind} plugin {name!r} ({ep.value}) fails to import: {type(exc).__name__}: {exc}; "
                "fix or reinstall the package that provides it"
            ) from exc
        if not callable(loaded):
            raise PluginError(f"{self.kind} plugin {name!r} ({ep.value}) is not a class or function")
        self._factories[name] = loaded
        return loaded

    def create(self, name: str, **kwargs: object) -> T:
        """Build `name` with `kwargs`; the result must honour the seam's contract (`base`)."""
        obj = self.factory(name)(**kwargs)
        if self.base is not None and not isinstance(obj, self.base):
            raise PluginError(
                f"{self.kind} {name!r} built a {type(obj).__name__}, which is not a "
                f"{self.base.__module__}.{self.base.__qualname__}; subclass it (see docs/plugins.md)"
            )
        return obj

    def parameters(self, name: str) -> dict[str, inspect.Parameter]:
        """The keyword parameters of `name`'s factory (its options)."""
        return _parameters(self.factory(name))

    def parse_options(self, name: str, pairs: Iterable[str], flag: str = "") -> dict[str, Any]:
        """`["strict=true", "n=3"]` → `{"strict": True, "n": 3}`, typed by the factory's annotations.

        An unknown key or a value of the wrong type is a one-line error naming the option and what the
        plugin accepts."""
        factory = self.factory(name)
        params = _parameters(factory)
        hints = _hints(factory)
        out: dict[str, Any] = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key:
                raise UsageError(f"{flag} {pair!r} is not key=value; write e.g. {flag} strict=true")
            if key not in params:
                known = ", ".join(params) or "no options"
                raise UsageError(f"{self.kind} {name!r} has no option {key!r}; it takes: {known}")
            out[key] = convert(raw, hints.get(key, str), f"{flag} {key}")
        return out

    def describe(self) -> list[PluginInfo]:
        """Every known plugin (built in, or installed) with its summary and the options its factory takes."""
        out = []
        for name in self.names():
            factory = self.factory(name)
            out.append(PluginInfo(self.kind, name, _summary(factory), _options(factory)))
        return out


def _parameters(factory: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {n: p for n, p in sig.parameters.items() if p.kind in kinds}


def _hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if isinstance(factory, type) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:  # an annotation that does not resolve: treat its values as strings
        return {}


def convert(raw: str, hint: Any, what: str) -> Any:
    """Turn a command-line string into a value of type `hint` (str, int, float, bool, Optional, Literal,
    tuple/list of those as comma-separated values)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        rest = [a for a in args if a is not type(None)]
        if raw.strip().lower() in ("none", "null", "") and len(rest) < len(args):
            return None
        errors = []
        for a in rest:
            try:
                return convert(raw, a, what)
            except UsageError as exc:
                errors.append(str(exc))
        raise UsageError(errors[0] if errors else f"{what}={raw!r} has no usable type")
    if origin is typing.Literal:
        for a in args:
            if str(a) == raw:
                return a
        raise UsageError(f"{what}={raw!r} must be one of: {', '.join(map(str, args))}")
    if origin in (tuple, list):
        item = args[0] if args else str
        values = [convert(x.strip(), item, what) for x in raw.split(",") if x.strip()]
        return tuple(values) if origin is tuple else values
    if hint is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise UsageError(f"{what}={raw!r} must be true or false")
    if hint in (int, float):
        try:
            return hint(raw)
        except ValueError:
            raise UsageError(
                f"{what}={raw!r} must be {'an integer' if hint is int else 'a number'}"
            ) from None
    if hint in (str, Any, inspect.Parameter.empty):
        return raw
    raise UsageError(f"{what} has type {hint!r}, which cannot be given on the command line")


def accepted(factory: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The non-None `options` the factory accepts (all of them when it takes **kwargs)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return {k: v for k, v in options.items() if v is not None and (takes_all or k in params)}


__all__ = ["Registry", "accepted", "convert"]
