"""Reading a ``LoonFFIResult`` returned by a raw C call in the engine tests."""

from __future__ import annotations

from typing import Any

from loon._ffi import ffi, library


def code_of(result: Any) -> int:
    """The error code of a LoonFFIResult (0 on success); a failure must carry a message, released here once."""
    err = result.err_code
    holder = ffi.new("LoonFFIResult*", result)
    message = library().loon_ffi_get_errmsg(holder)
    if err == 0:
        assert message == ffi.NULL
    else:
        assert message != ffi.NULL and ffi.string(message), f"code {err} without a message"
    library().loon_ffi_free_result(holder)
    return err
