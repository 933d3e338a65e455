"""Results (2.1), properties (2.2) and the thread pool (2.4) through the C ABI."""

from __future__ import annotations

import pytest

import loon
from loon._ffi import ffi, library
from loon.errors import check


def _c_strings(items):
    # cffi does not keep initializer objects alive: hold every char[] owner until the call returns.
    owners = [ffi.new("char[]", s.encode()) if s is not None else ffi.NULL for s in items]
    return owners, ffi.new("const char*[]", owners)


def _create(keys, values, count=None, out=None):
    key_owners, c_keys = _c_strings(keys)
    value_owners, c_values = _c_strings(values)
    out = out if out is not None else ffi.new("LoonProperties*")
    result = library().loon_properties_create(c_keys, c_values, len(keys) if count is None else count, out)
    del key_owners, value_owners
    return result, out


def test_success_result_helpers():
    ok = ffi.new("LoonFFIResult*")
    assert library().loon_ffi_is_success(ok) == 1
    assert library().loon_ffi_get_errmsg(ok) == ffi.NULL
    library().loon_ffi_free_result(ok)


def test_failure_result_carries_code_and_message():
    result, _ = _create(["a", "a"], ["1", "2"])
    assert result.err_code == 7
    with pytest.raises(loon.InvalidPropertiesError) as info:
        check(result, "loon_properties_create")
    assert info.value.code == 7
    assert "duplicate" in info.value.message and "'a'" in info.value.message


def test_properties_create_get_free():
    result, props = _create(["writer.policy", "custom.unknown"], ["single", "kept"])
    check(result)
    assert props.count == 2
    lib = library()
    assert ffi.string(lib.loon_properties_get(props, b"custom.unknown")) == b"kept"
    assert lib.loon_properties_get(props, b"absent") == ffi.NULL
    assert lib.loon_properties_get(ffi.NULL, b"absent") == ffi.NULL
    lib.loon_properties_free(props)
    assert props.count == 0 and props.properties == ffi.NULL
    lib.loon_properties_free(props)  # {NULL, 0} is safe
    lib.loon_properties_free(ffi.NULL)


@pytest.mark.parametrize(
    "keys, values, count, code",
    [
        (["a"], ["1"], 0, 1),  # zero count
        (["a", None], ["1", "2"], None, 7),  # NULL key
        (["a", "b"], ["1", None], None, 7),  # NULL value
        (["k", "k"], ["1", "1"], None, 7),  # repeated key
    ],
)
def test_properties_create_rejects_bad_input(keys, values, count, code):
    result, props = _create(keys, values, count)
    assert result.err_code == code
    assert props.properties == ffi.NULL
    with pytest.raises(loon.LoonError):
        check(result)


def test_properties_create_null_pointers():
    lib = library()
    out = ffi.new("LoonProperties*")
    with pytest.raises(loon.InvalidArgumentError):
        check(lib.loon_properties_create(ffi.NULL, ffi.NULL, 1, out))
    key_owner = ffi.new("char[]", b"a")
    keys = ffi.new("const char*[]", [key_owner])
    with pytest.raises(loon.InvalidArgumentError):
        check(lib.loon_properties_create(keys, keys, 1, ffi.NULL))


def test_python_properties_round_trip():
    props = loon.Properties({"writer.enable_dictionary": False, "writer.buffer_size": 1024})
    assert props["writer.enable_dictionary"] == "false"
    with props.as_c() as c_props:
        assert c_props.count == 2
        assert ffi.string(library().loon_properties_get(c_props, b"writer.buffer_size")) == b"1024"
    with loon.Properties().as_c() as empty:
        assert empty.count == 0 and empty.properties == ffi.NULL


def test_thread_pool_singleton():
    lib = library()
    with pytest.raises(loon.InvalidArgumentError):
        check(lib.loon_thread_pool_singleton(0))
    with loon.thread_pool(2):
        check(lib.loon_thread_pool_singleton(3))  # resize while it exists
    lib.loon_thread_pool_singleton_release()  # no pool: no-op
