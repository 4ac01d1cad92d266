#!/usr/bin/env python3
"""The SSPI loop from Python through libsspi.so with ctypes, in one process:
acquire a client's and a server's credentials, trade tokens between
InitializeSecurityContextW and AcceptSecurityContext until both are done,
then sign/verify and seal/unseal a message (and see a tampered one refused).
Everything goes through the table InitSecurityInterfaceW returns.

    SSPI_REGISTRY=config/sspi.reg python3 capi/samples/ctypes_loop.py target/release/libsspi.so [PACKAGE]

Prints one line per step and "ok" at the end; exits 1 on a failure.
"""
import ctypes
import sys
from ctypes import POINTER, Structure, byref, c_int32, c_uint16, c_uint32, c_void_p, CFUNCTYPE, cast

ULONG = c_uint32
SECURITY_STATUS = c_int32

SEC_E_OK = 0
SEC_I_CONTINUE_NEEDED = 0x00090312
SEC_I_COMPLETE_NEEDED = 0x00090313
SEC_I_COMPLETE_AND_CONTINUE = 0x00090314
SEC_E_MESSAGE_ALTERED = -0x7FF6FCF1  # 0x8009030F as a signed 32-bit value
SECPKG_CRED_INBOUND, SECPKG_CRED_OUTBOUND = 1, 2
SECBUFFER_DATA, SECBUFFER_TOKEN = 1, 2
SECPKG_ATTR_SIZES, SECPKG_ATTR_NAMES = 0, 1
ISC_REQ = 0x2 | 0x4 | 0x8 | 0x10 | 0x800 | 0x10000  # mutual, replay, sequence, confidentiality, connection, integrity
ASC_REQ = 0x2 | 0x4 | 0x8 | 0x10 | 0x800 | 0x20000
SECURITY_NATIVE_DREP = 0x10


class SecHandle(Structure):
    _fields_ = [("dwLower", ctypes.c_size_t), ("dwUpper", ctypes.c_size_t)]


class TimeStamp(Structure):
    _fields_ = [("LowPart", c_uint32), ("HighPart", c_int32)]


class SecBuffer(Structure):
    _fields_ = [("cbBuffer", ULONG), ("BufferType", ULONG), ("pvBuffer", c_void_p)]


class SecBufferDesc(Structure):
    _fields_ = [("ulVersion", ULONG), ("cBuffers", ULONG), ("pBuffers", POINTER(SecBuffer))]


class SecPkgContext_Sizes(Structure):
    _fields_ = [("cbMaxToken", ULONG), ("cbMaxSignature", ULONG), ("cbBlockSize", ULONG), ("cbSecurityTrailer", ULONG)]


class SecPkgContext_NamesW(Structure):
    _fields_ = [("sUserName", POINTER(c_uint16))]  # SEC_WCHAR is UTF-16 (ctypes' c_wchar is 32-bit here)


def fn(*args):
    return CFUNCTYPE(SECURITY_STATUS, *args)


PH, PD = POINTER(SecHandle), POINTER(SecBufferDesc)


class SecurityFunctionTableW(Structure):
    _fields_ = [
        ("dwVersion", ULONG),
        ("EnumerateSecurityPackagesW", c_void_p),
        ("QueryCredentialsAttributesW", c_void_p),
        ("AcquireCredentialsHandleW", fn(c_void_p, c_void_p, ULONG, c_void_p, c_void_p, c_void_p, c_void_p, PH, POINTER(TimeStamp))),
        ("FreeCredentialsHandle", fn(PH)),
        ("Reserved2", c_void_p),
        ("InitializeSecurityContextW", fn(PH, PH, c_void_p, ULONG, ULONG, ULONG, PD, ULONG, PH, PD, POINTER(ULONG), POINTER(TimeStamp))),
        ("AcceptSecurityContext", fn(PH, PH, PD, ULONG, ULONG, PH, PD, POINTER(ULONG), POINTER(TimeStamp))),
        ("CompleteAuthToken", fn(PH, PD)),
        ("DeleteSecurityContext", fn(PH)),
        ("ApplyControlToken", c_void_p),
        ("QueryContextAttributesW", fn(PH, ULONG, c_void_p)),
        ("ImpersonateSecurityContext", c_void_p),
        ("RevertSecurityContext", c_void_p),
        ("MakeSignature", fn(PH, ULONG, PD, ULONG)),
        ("VerifySignature", fn(PH, PD, ULONG, POINTER(ULONG))),
        ("FreeContextBuffer", fn(c_void_p)),
        ("QuerySecurityPackageInfoW", c_void_p),
        ("Reserved3", c_void_p),
        ("Reserved4", c_void_p),
        ("ExportSecurityContext", c_void_p),
        ("ImportSecurityContextW", c_void_p),
        ("AddCredentialsW", c_void_p),
        ("Reserved8", c_void_p),
        ("QuerySecurityContextToken", c_void_p),
        ("EncryptMessage", fn(PH, ULONG, PD, ULONG)),
        ("DecryptMessage", fn(PH, PD, ULONG, POINTER(ULONG))),
        ("SetContextAttributesW", c_void_p),
    ]


def wide(text):
    units = list(text.encode("utf-16-le"))
    codes = [units[i] | units[i + 1] << 8 for i in range(0, len(units), 2)] + [0]
    return (c_uint16 * len(codes))(*codes)


def from_wide(ptr):
    units = []
    while ptr[len(units)] != 0:
        units.append(ptr[len(units)])
    return bytes(b for u in units for b in (u & 0xFF, u >> 8)).decode("utf-16-le")


def check(what, status, *ok):
    if status not in (SEC_E_OK,) + ok:
        sys.exit(f"{what} failed: 0x{status & 0xFFFFFFFF:08x}")
    return status


def desc(*buffers):
    array = (SecBuffer * len(buffers))(*buffers)
    return SecBufferDesc(0, len(buffers), array), array


def main():
    library = sys.argv[1] if len(sys.argv) > 1 else "libsspi.so"
    package = sys.argv[2] if len(sys.argv) > 2 else "Test"
    lib = ctypes.CDLL(library)
    lib.InitSecurityInterfaceW.restype = POINTER(SecurityFunctionTableW)
    t = lib.InitSecurityInterfaceW().contents
    if t.dwVersion != 2:
        sys.exit(f"table version {t.dwVersion}")

    client_cred, server_cred, expiry = SecHandle(), SecHandle(), TimeStamp()
    name = wide(package)
    check("AcquireCredentialsHandleW(OUTBOUND)",
          t.AcquireCredentialsHandleW(None, cast(name, c_void_p), SECPKG_CRED_OUTBOUND, None, None, None, None, byref(client_cred), byref(expiry)))
    check("AcquireCredentialsHandleW(INBOUND)",
          t.AcquireCredentialsHandleW(None, cast(name, c_void_p), SECPKG_CRED_INBOUND, None, None, None, None, byref(server_cred), byref(expiry)))

    client, server = SecHandle(), SecHandle()
    have_client = have_server = client_done = server_done = False
    token, legs = b"", 0
    attrs = ULONG()

    def leg(side):
        nonlocal token, legs
        out_mem = ctypes.create_string_buffer(64 * 1024)
        in_mem = ctypes.create_string_buffer(token, len(token))
        in_desc, _keep_in = desc(SecBuffer(len(token), SECBUFFER_TOKEN, cast(in_mem, c_void_p)))
        out_desc, out_array = desc(SecBuffer(len(out_mem), SECBUFFER_TOKEN, cast(out_mem, c_void_p)))
        if side == "client":
            status = t.InitializeSecurityContextW(
                byref(client_cred), byref(client) if have_client else None, None, ISC_REQ, 0, SECURITY_NATIVE_DREP,
                byref(in_desc) if have_client else None, 0, byref(client), byref(out_desc), byref(attrs), byref(expiry))
        else:
            status = t.AcceptSecurityContext(
                byref(server_cred), byref(server) if have_server else None, byref(in_desc), ASC_REQ, SECURITY_NATIVE_DREP,
                byref(server), byref(out_desc), byref(attrs), byref(expiry))
        check(f"{side} leg", status, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE)
        if status in (SEC_I_COMPLETE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE):
            check("CompleteAuthToken", t.CompleteAuthToken(byref(client if side == "client" else server), byref(out_desc)))
        legs += 1
        token = out_mem.raw[: out_array[0].cbBuffer]
        print(f"leg {legs}  {side:6}  {len(token):5} bytes  0x{status & 0xFFFFFFFF:08x}")
        return status in (SEC_E_OK, SEC_I_COMPLETE_NEEDED)

    while True:
        if not client_done:
            client_done = leg("client")
            have_client = True
        if not token and client_done and server_done:
            break
        if token:
            server_done = leg("server")
            have_server = True
        if not token and client_done and server_done:
            break

    names = SecPkgContext_NamesW()
    check("QueryContextAttributesW(NAMES)", t.QueryContextAttributesW(byref(server), SECPKG_ATTR_NAMES, byref(names)))
    print(f"server: authenticated {from_wide(names.sUserName)}")
    check("FreeContextBuffer", t.FreeContextBuffer(cast(names.sUserName, c_void_p)))
    sizes = SecPkgContext_Sizes()
    check("QueryContextAttributesW(SIZES)", t.QueryContextAttributesW(byref(client), SECPKG_ATTR_SIZES, byref(sizes)))

    # Sign on the client, verify on the server; a changed byte is refused.
    message = b"signed from Python"
    data = ctypes.create_string_buffer(message, len(message))
    sig = ctypes.create_string_buffer(sizes.cbMaxSignature)
    signed, signed_array = desc(SecBuffer(len(message), SECBUFFER_DATA, cast(data, c_void_p)),
                                SecBuffer(len(sig), SECBUFFER_TOKEN, cast(sig, c_void_p)))
    check("MakeSignature", t.MakeSignature(byref(client), 0, byref(signed), 0))
    qop = ULONG()
    check("VerifySignature", t.VerifySignature(byref(server), byref(signed), 0, byref(qop)))
    print(f"sign:    {len(message)}-byte message, {signed_array[1].cbBuffer}-byte signature, verified")
    check("MakeSignature", t.MakeSignature(byref(client), 0, byref(signed), 0))
    data[0] = data[0][0] ^ 1
    status = t.VerifySignature(byref(server), byref(signed), 0, byref(qop))
    if status != SEC_E_MESSAGE_ALTERED:
        sys.exit(f"a tampered message was not refused: 0x{status & 0xFFFFFFFF:08x}")
    print("tamper:  SEC_E_MESSAGE_ALTERED")

    # Seal on the server, unseal on the client, in place.
    message = b"sealed from Python"
    data = ctypes.create_string_buffer(message, len(message))
    trailer = ctypes.create_string_buffer(sizes.cbSecurityTrailer)
    sealed, _sealed_array = desc(SecBuffer(len(trailer), SECBUFFER_TOKEN, cast(trailer, c_void_p)),
                                 SecBuffer(len(message), SECBUFFER_DATA, cast(data, c_void_p)))
    check("EncryptMessage", t.EncryptMessage(byref(server), 0, byref(sealed), 0))
    if data.raw == message:
        sys.exit("EncryptMessage left the data in clear")
    check("DecryptMessage", t.DecryptMessage(byref(client), byref(sealed), 0, byref(qop)))
    if data.raw != message:
        sys.exit("DecryptMessage did not restore the message")
    print(f"seal:    {len(message)}-byte message sealed by the server, opened by the client")

    for handle in (client, server):
        check("DeleteSecurityContext", t.DeleteSecurityContext(byref(handle)))
    for handle in (client_cred, server_cred):
        check("FreeCredentialsHandle", t.FreeCredentialsHandle(byref(handle)))
    print("ok")


if __name__ == "__main__":
    main()
