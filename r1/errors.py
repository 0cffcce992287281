"""User-facing errors: the CLI prints them as one line and exits with status 2."""


class R1Error(Exception):
    """Bad input from the user (a file, a field, a path). The message names what is wrong."""
