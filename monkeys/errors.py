"""The one exception type for user mistakes, and its kinds; the CLI prints any of them as a single line.

Library callers can branch on the kind: `UsageError` (a bad argument or option), `RunMismatchError` (a run
directory made with other settings than asked for), `CorruptStoreError` (a run store that cannot be read),
`PluginError` (a plugin that cannot be found, loaded or built). Internal bugs are never `MonkeysError`.
"""


class MonkeysError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do."""

    exit_code = 2


class Interrupted(MonkeysError):
    """The user pressed Ctrl-C; what was finished is stored. Exits 130, as shells expect of SIGINT."""

    exit_code = 130


class UsageError(MonkeysError):
    """A command-line or API argument that is invalid: out of range, unknown, or contradicting another."""


class RunMismatchError(MonkeysError):
    """A run directory (or its verdicts) was made with other settings or options than the call asks for."""


class CorruptStoreError(MonkeysError):
    """A run directory's manifest or tables cannot be read."""


class PluginError(MonkeysError):
    """A plugin (task, verifier, engine, sandbox, scorer) is unknown, fails to load, or breaks its contract."""


__all__ = [
    "CorruptStoreError",
    "Interrupted",
    "MonkeysError",
    "PluginError",
    "RunMismatchError",
    "UsageError",
]
