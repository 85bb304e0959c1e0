"""The two ways a fine-tune ends early."""

from __future__ import annotations


class FinetuneError(Exception):
    """The fine-tune was refused or failed; ``str()`` is a message for the user."""


class FinetuneCancelled(Exception):
    """The caller's ``cancelled()`` returned True. Nothing new was written."""
