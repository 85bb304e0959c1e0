"""The ImageNet weights file described as data, and the errors weights raise.

No torch here: the window shows these errors and the download writes the file
without the model's side loaded, and unpickling an error imports its module.
"""

from __future__ import annotations

import errno

# torchvision's AlexNet_Weights.IMAGENET1K_V1 file (a test checks them against its url
# and meta): written out so finding and downloading it needs no torchvision import.
IMAGENET_FILENAME = "alexnet-owt-7be5be79.pth"
IMAGENET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
IMAGENET_SHA256_PREFIX = "7be5be79"


class WeightsError(Exception):
    """A one-line message for the user that names the file and the cause."""


class DownloadCancelled(WeightsError):
    pass


def os_error_cause(e: OSError) -> str:
    """A short, user-facing reason for an OSError."""
    if e.errno == errno.ENOSPC or e.errno == errno.EDQUOT:
        return "disk full"
    if isinstance(e, PermissionError) or e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied" if e.errno != errno.EROFS else "read-only file system"
    if isinstance(e, FileNotFoundError):
        return "no such file or folder"
    if isinstance(e, IsADirectoryError):
        return "it is a folder"
    return e.strerror or str(e) or type(e).__name__


def save_cause(e: BaseException) -> str:
    """Why a save failed: the first OSError in the chain (torch.save wraps them), else the text."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, OSError):
            return os_error_cause(seen)
        seen = seen.__cause__ or seen.__context__
    text = str(e).strip()
    return text.splitlines()[0][:160] if text else type(e).__name__
