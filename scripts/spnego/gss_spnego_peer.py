#!/usr/bin/python3
"""An MIT GSS-API SPNEGO peer (Debian's python3-gssapi over libgssapi_krb5,
mechanism 1.3.6.1.5.5.2) for the interop tests, with Kerberos inside
(MIT krb5) or NTLM inside (Debian's gss-ntlmssp). One context per process.

  gss_spnego_peer.py initiate TARGET [--mechs LIST] [--user U --domain D --password P] [--mic-first yes]
  gss_spnego_peer.py accept [--mechs LIST] [--mic-first yes]

TARGET is a host-based service name, e.g. "host@localhost" (Kerberos
principal host/localhost). LIST is a comma-separated, ordered list of the
mechanisms SPNEGO may offer or accept (gss_set_neg_mechs): "krb5" (MIT
1.2.840.113554.1.2.2), "ntlm" (1.3.6.1.4.1.311.2.2.10); default: whatever
MIT offers (krb5, then ntlm when gss-ntlmssp is installed). --user/--domain/
--password: initiator credentials by gss_acquire_cred_with_password for the
SPNEGO mechanism (MIT hands the password to every mechanism in LIST: NTLM
uses it directly, Kerberos gets a TGT from the KDC when the first token is
made); without them the default credentials (KRB5CCNAME; NTLM_USER_FILE).
Environment: KRB5_CONFIG, KRB5CCNAME (initiator), KRB5_KTNAME (acceptor),
NTLM_USER_FILE (lines "DOMAIN:user:password"; the acceptor's NTLM users,
and the initiator's NTLM credentials without --password).

Line protocol (stdout, one line each, flushed; stdin, one line each):
  out "TOKEN <hex>"       every output token (the initiator starts)
  in  "<hex>"             the next input token, read after each TOKEN while
                          the context is not complete (the acceptor reads first)
  out "OK <mech> <name>"  the context is complete; <mech> is what SPNEGO
                          negotiated (krb5 / ntlm / the OID), <name> the
                          initiator's name (acceptor; gss-ntlmssp's trailing
                          NUL removed) or "-" (initiator)
  out "WRAP <hex>"        wrap(b"peer to sspi-plug", encrypt=True)
  out "MIC <hex> <hex>"   get_mic(b"mic from peer"), then the message
  in  "WRAP <hex>"        the other side's wrap token
  in  "MIC <hex> <hex>"   the other side's MIC and its message
  out "UNWRAPPED <text>"  the unwrapped text (and "SEALED" / "NOT-SEALED"
                          after it: whether it was encrypted)
  out "VERIFIED"          the MIC verified; then exit 0
  out "ERROR <what>"      on any failure, then exit 1 (also right after a
                          TOKEN carrying negState reject: the peer refused)
"""
import sys

import gssapi
import gssapi.raw as raw

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
MECHS = {
    "krb5": gssapi.OID.from_int_seq("1.2.840.113554.1.2.2"),
    "ntlm": gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10"),
}
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
    rest = []
    i = 0
    while i < len(args):
        if args[i].startswith("--") and i + 1 < len(args):
            opts[args[i][2:]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    return rest, opts


def mech_list(text):
    try:
        return [MECHS[m.strip().lower()] for m in text.split(",") if m.strip()]
    except KeyError as e:
        fail(f"unknown mechanism {e} in --mechs (krb5, ntlm)")


def mech_name(oid):
    for name, value in MECHS.items():
        if value == oid:
            return name
    return oid.dotted_form


def credentials(usage, opts):
    if "password" in opts:
        user = opts.get("user", "")
        if opts.get("domain"):
            user = opts["domain"] + "\\" + user
        name = gssapi.Name(user, gssapi.NameType.user)
        cred = raw.acquire_cred_with_password(
            name, opts["password"].encode(), usage=usage, mechs=[SPNEGO]
        ).creds
    else:
        cred = raw.acquire_cred(None, mechs=[SPNEGO], usage=usage).creds
    if "mechs" in opts:
        raw.set_neg_mechs(cred, mech_list(opts["mechs"]))
    return gssapi.Credentials(base=cred)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("initiate", "accept"):
        fail("usage: gss_spnego_peer.py initiate TARGET [options] | accept [options]")
    role = sys.argv[1]
    rest, opts = options(sys.argv[2:])
    try:
        if role == "initiate":
            if not rest:
                fail("initiate needs a TARGET (e.g. host@localhost)")
            target = gssapi.Name(rest[0], gssapi.NameType.hostbased_service)
            ctx = gssapi.SecurityContext(
                name=target,
                mech=SPNEGO,
                usage="initiate",
                creds=credentials("initiate", opts),
                flags=gssapi.RequirementFlag.mutual_authentication
                | gssapi.RequirementFlag.integrity
                | gssapi.RequirementFlag.confidentiality
                | gssapi.RequirementFlag.replay_detection
                | gssapi.RequirementFlag.out_of_sequence_detection,
            )
            out = ctx.step()
        else:
            ctx = gssapi.SecurityContext(usage="accept", creds=credentials("accept", opts))
            out = ctx.step(bytes.fromhex(read_line()))
        while True:
            if out:
                say("TOKEN", out.hex())
                if neg_state(out) == 2:
                    fail("sent negState reject")
            if ctx.complete:
                break
            out = ctx.step(bytes.fromhex(read_line()))
        # gss-ntlmssp's display name ends in a NUL (python-gssapi keeps it).
        name = str(ctx.initiator_name).rstrip("\0") if role == "accept" else "-"
        say("OK", mech_name(ctx.mech), name)
    except gssapi.exceptions.GSSError as e:
        fail(f"{type(e).__name__} {e}")
    per_message(ctx, opts.get("mic-first") == "yes")


def per_message(ctx, mic_first):
    try:
        # --mic-first yes: the MIC takes the first sequence number, the wrap
        # token the next (the lines keep their order), for a side that checks
        # only the MIC.
        if mic_first:
            mic = ctx.get_signature(MIC_MESSAGE)
            wrapped = ctx.wrap(MESSAGE, True).message
        else:
            wrapped = ctx.wrap(MESSAGE, True).message
            mic = ctx.get_signature(MIC_MESSAGE)
        say("WRAP", wrapped.hex())
        say("MIC", mic.hex(), MIC_MESSAGE.hex())
        kind, _, wrapped = read_line().partition(" ")
        if kind != "WRAP":
            fail(f"expected WRAP, got {kind}")
        res = ctx.unwrap(bytes.fromhex(wrapped))
        say("UNWRAPPED", res.message.decode(errors="replace"), "SEALED" if res.encrypted else "NOT-SEALED")
        kind, _, rest = read_line().partition(" ")
        if kind != "MIC":
            fail(f"expected MIC, got {kind}")
        mic, message = rest.split()
        ctx.verify_signature(bytes.fromhex(message), bytes.fromhex(mic))
        say("VERIFIED")
    except (gssapi.exceptions.GSSError, ValueError) as e:
        fail(f"{type(e).__name__} {e}")


if __name__ == "__main__":
    main()
