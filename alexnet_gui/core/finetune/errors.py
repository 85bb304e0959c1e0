"""The two ways a fine-tune ends early."""

from __future__ import annotations


class FinetuneError(Exception):
    """The fine-tune was refused or failed; ``str()`` is a message for the user.

    ``skipped`` lists the files the scan left out (path, error), when a refusal
    came from the health report: often the reason a class has too few images.
    """

    def __init__(self, message: str, skipped: list | None = None) -> None:
        super().__init__(message)
        self.skipped = list(skipped or [])


class FinetuneCancelled(Exception):
    """The caller's ``cancelled()`` returned True. Nothing new was written."""
