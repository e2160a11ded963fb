"""The one exception type for user mistakes; the CLI prints it as a single line."""


class MonkeysError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do."""
