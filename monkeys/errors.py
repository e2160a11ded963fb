"""The one exception type for user mistakes; the CLI prints it as a single line."""


class MonkeysError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do."""

    exit_code = 2


class Interrupted(MonkeysError):
    """The user pressed Ctrl-C; what was finished is stored. Exits 130, as shells expect of SIGINT."""

    exit_code = 130
