"""The library's exported surface: symbol visibility, constant values, C signatures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import loon
from loon._ffi import ffi, library

from .spec_values import ERROR_CODES, FAULT_KEYS, PROPERTY_KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_error_codes_have_spec_values():
    lib = library()
    for name, value in ERROR_CODES.items():
        assert getattr(lib, f"loon_errcode_{name}") == value, name
    assert len(ERROR_CODES) == 23


def test_property_keys_read_back_through_cffi():
    lib = library()
    for suffix, key in PROPERTY_KEYS.items():
        assert ffi.string(getattr(lib, f"loon_properties_{suffix}")).decode() == key, suffix
    assert len(PROPERTY_KEYS) == 59  # 51 declared by the binding + 8 exported upstream


def test_fault_keys_read_back_through_cffi():
    lib = library()
    for suffix, key in FAULT_KEYS.items():
        assert ffi.string(getattr(lib, f"loon_fiukey_{suffix}")).decode() == key, suffix


def test_only_loon_symbols_are_exported(our_engine):
    out = subprocess.run(
        ["nm", "-D", "--defined-only", our_engine.path], check=True, capture_output=True, text=True
    ).stdout
    names = [line.split()[-1] for line in out.splitlines() if line.strip()]
    assert names, "no exported symbols"
    foreign = [n for n in names if not n.startswith("loon_")]
    assert foreign == []


def test_library_finds_arrow_without_pyarrow_imported(our_engine):
    # A fresh interpreter loads the library by ctypes before any pyarrow import.
    code = f"import ctypes, sys; ctypes.CDLL({our_engine.path!r}); assert 'pyarrow' not in sys.modules"
    env = {"PATH": "/usr/bin:/bin"}  # no LD_LIBRARY_PATH
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code], check=True, env=env)


def test_header_matches_spec_prototypes(our_engine, tmp_path):
    """cpp/tests/abi_check.c re-declares every spec prototype; it must compile against the header."""
    import pyarrow

    out = tmp_path / "abi_check.o"
    subprocess.run(
        [
            "gcc",
            "-std=c11",
            "-Wall",
            "-Werror",
            "-c",
            str(ROOT / "cpp" / "tests" / "abi_check.c"),
            f"-I{ROOT / 'cpp' / 'include'}",
            f"-I{pyarrow.get_include()}",
            "-o",
            str(out),
        ],
        check=True,
    )


def test_cdef_is_generated_from_header():
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "tools" / "gen_cdef.py"), "--check"], check=True)


def test_library_info_identifies_engine(our_engine):
    assert our_engine.kind == "loon-engine"
    assert "loon-engine" in our_engine.info
    assert Path(our_engine.path).name == "libmilvus-storage.so"


def test_retryable_codes():
    retryable = {c for c in range(0, 120) if loon.is_retryable(c)}
    assert retryable == {101, 107, 108, 109, 110}
    assert not loon.is_retryable(-1)


@pytest.mark.parametrize("code", sorted(set(ERROR_CODES.values()) - {0}))
def test_every_code_maps_to_an_exception_class(code):
    cls = loon.error_class(code)
    assert issubclass(cls, loon.LoonError)
    err = cls(code, "boom", "loon_x")
    assert err.code == code and "boom" in str(err) and "loon_x" in str(err)
