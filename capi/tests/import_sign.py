#!/usr/bin/env python3
"""The second process of capi/tests/python.rs: imports a packed context
(ImportSecurityContextW through libsspi.so's table) and signs a message with
it; prints the signature in hex. Uses the structures of
capi/samples/ctypes_loop.py.

    import_sign.py LIBSSPI PACKAGE BLOB_FILE MESSAGE
"""
import ctypes
import os
import sys
from ctypes import POINTER, byref, c_void_p, cast

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "samples"))
import ctypes_loop as s  # noqa: E402


def main():
    library, package, blob_file, message = sys.argv[1:5]
    lib = ctypes.CDLL(library)
    lib.InitSecurityInterfaceW.restype = POINTER(s.SecurityFunctionTableW)
    t = lib.InitSecurityInterfaceW().contents
    import_context = s.fn(c_void_p, POINTER(s.SecBuffer), c_void_p, s.PH)(t.ImportSecurityContextW)
    blob = open(blob_file, "rb").read()
    packed_mem = ctypes.create_string_buffer(blob, len(blob))
    packed = s.SecBuffer(len(blob), 0, cast(packed_mem, c_void_p))
    name = s.wide(package)
    ctx = s.SecHandle()
    s.check("ImportSecurityContextW", import_context(cast(name, c_void_p), byref(packed), None, byref(ctx)))
    data = ctypes.create_string_buffer(message.encode(), len(message))
    sig = ctypes.create_string_buffer(64)
    desc, array = s.desc(s.SecBuffer(len(message), s.SECBUFFER_DATA, cast(data, c_void_p)),
                         s.SecBuffer(64, s.SECBUFFER_TOKEN, cast(sig, c_void_p)))
    s.check("MakeSignature", t.MakeSignature(byref(ctx), 0, byref(desc), 0))
    print(sig.raw[: array[1].cbBuffer].hex())
    s.check("DeleteSecurityContext", t.DeleteSecurityContext(byref(ctx)))


if __name__ == "__main__":
    main()
