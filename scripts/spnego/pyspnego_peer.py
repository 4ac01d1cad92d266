"""A pyspnego peer for the interop tests: pyspnego's own pure-Python SPNEGO
(protocol="negotiate", options=NegotiateOptions.use_negotiate) with its
pure-Python NTLM inside. One context per process. Run it with the Python of
the virtualenv scripts/spnego/install.sh made
(${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}/pyspnego-<version>/bin/python).

  pyspnego_peer.py initiate --user U --domain D --password P [--hostname H] [--service S]
  pyspnego_peer.py accept [--hostname H] [--service S] [--challenge-version yes]

--challenge-version yes (acceptor): a work-around, off by default, for a
pyspnego 0.11.2 acceptor quirk. pyspnego's CHALLENGE echoes the client's
NTLMSSP_NEGOTIATE_VERSION flag but omits the 8-byte Version field (its
payload starts at offset 48), and gss-ntlmssp refuses such a CHALLENGE
(ntlm_decode_chal_msg: a field offset below 56 while the flag is set is
ERR_DECODE, so MIT's SPNEGO sends reject). With the switch the peer puts a
Version (10.0.0, revision 15) in pyspnego's CHALLENGE when the flag is
set; nothing else changes.

The acceptor's NTLM users come from NTLM_USER_FILE (lines
"DOMAIN:user:password"). Never GSSAPI or Kerberos: the module "gssapi" is
blocked before pyspnego is imported (the virtualenv does not have it
either), so pyspnego's Negotiate can only offer and accept NTLM (its mech
list would otherwise start with Kerberos through python-gssapi), and the
peer fails unless NTLM was negotiated.

Line protocol (stdout, one line each, flushed; stdin, one line each):
  out "TOKEN <hex>"       every output token (the initiator starts)
  in  "<hex>"             the next input token, read after each TOKEN while
                          the context is not complete (the acceptor reads first)
  out "OK <protocol> <name>"  the context is complete; <protocol> is
                          pyspnego's negotiated_protocol ("ntlm"), <name> the
                          client principal (acceptor) or "-" (initiator)
  out "WRAP <hex>"        wrap(b"peer to sspi-plug", encrypt=True)
  out "MIC <hex> <hex>"   sign(b"mic from peer"), then the message
  in  "WRAP <hex>"        the other side's wrap token
  in  "MIC <hex> <hex>"   the other side's MIC and its message
  out "UNWRAPPED <text> SEALED|NOT-SEALED"  the unwrapped text, whether encrypted
  out "VERIFIED"          the MIC verified; then exit 0
  out "ERROR <what>"      on any failure, then exit 1 (also right after a
                          TOKEN carrying negState reject: the peer refused)
"""
import sys

sys.modules["gssapi"] = None  # pyspnego must not use GSSAPI/Kerberos.
sys.modules["krb5"] = None

import spnego  # noqa: E402

MESSAGE = b"peer to sspi-plug"
MIC_MESSAGE = b"mic from peer"


def say(*parts):
    print(*parts, flush=True)


def fail(what):
    say("ERROR", str(what).replace("\n", " "))
    sys.exit(1)


def read_line():
    line = sys.stdin.readline()
    if not line:
        fail("stdin closed")
    return line.strip()


def neg_state(token):
    """negState of a NegTokenResp (a1 .. 30 .. a0 03 0a 01 XX), or None."""

    def skip_header(i):
        n = token[i + 1]
        return i + 2 + (n & 0x7F if n & 0x80 else 0)

    try:
        if token[0] != 0xA1:
            return None
        i = skip_header(0)
        if token[i] != 0x30:
            return None
        i = skip_header(i)
        if token[i : i + 4] == b"\xa0\x03\x0a\x01":
            return token[i + 4]
    except IndexError:
        pass
    return None


def options(args):
    opts = {}
    i = 0
    while i < len(args):
        if not args[i].startswith("--") or i + 1 >= len(args):
            fail(f"bad argument {args[i]!r}")
        opts[args[i][2:]] = args[i + 1]
        i += 2
    return opts


def version_in_challenge():
    """Makes pyspnego's acceptor send the Version its flags announce."""
    import spnego._ntlm as ntlm
    from spnego._ntlm_raw.messages import Challenge, NegotiateFlags, Version

    class VersionedChallenge(Challenge):
        def __init__(self, flags=0, *args, **kwargs):
            if flags & NegotiateFlags.version and kwargs.get("version") is None and "_b_data" not in kwargs:
                kwargs["version"] = Version(10, 0, 0)
            super().__init__(flags, *args, **kwargs)

    ntlm.Challenge = VersionedChallenge


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("initiate", "accept"):
        fail("usage: pyspnego_peer.py initiate --user U --domain D --password P | accept")
    role = sys.argv[1]
    opts = options(sys.argv[2:])
    common = dict(
        hostname=opts.get("hostname", "localhost"),
        service=opts.get("service", "host"),
        protocol="negotiate",
        options=spnego.NegotiateOptions.use_negotiate,
    )
    try:
        if role == "initiate":
            user = opts.get("user", "")
            if opts.get("domain"):
                user = opts["domain"] + "\\" + user
            ctx = spnego.client(user, opts.get("password"), **common)
            out = ctx.step()
        else:
            if opts.get("challenge-version") == "yes":
                version_in_challenge()
            ctx = spnego.server(**common)
            out = ctx.step(bytes.fromhex(read_line()))
        while True:
            if out:
                say("TOKEN", out.hex())
                if neg_state(out) == 2:
                    fail("sent negState reject")
            if ctx.complete:
                break
            out = ctx.step(bytes.fromhex(read_line()))
        if ctx.negotiated_protocol != "ntlm":
            fail(f"negotiated {ctx.negotiated_protocol!r}, not pyspnego's NTLM")
        name = ctx.client_principal if role == "accept" else "-"
        say("OK", ctx.negotiated_protocol, name or "-")
    except Exception as e:  # pyspnego raises several families
        fail(f"{type(e).__name__} {e}")
    try:
        say("WRAP", ctx.wrap(MESSAGE, encrypt=True).data.hex())
        say("MIC", ctx.sign(MIC_MESSAGE).hex(), MIC_MESSAGE.hex())
        kind, _, wrapped = read_line().partition(" ")
        if kind != "WRAP":
            fail(f"expected WRAP, got {kind}")
        res = ctx.unwrap(bytes.fromhex(wrapped))
        say("UNWRAPPED", res.data.decode(errors="replace"), "SEALED" if res.encrypted else "NOT-SEALED")
        kind, _, rest = read_line().partition(" ")
        if kind != "MIC":
            fail(f"expected MIC, got {kind}")
        mic, message = rest.split()
        ctx.verify(bytes.fromhex(message), bytes.fromhex(mic))
        say("VERIFIED")
    except Exception as e:
        fail(f"{type(e).__name__} {e}")


if __name__ == "__main__":
    main()
