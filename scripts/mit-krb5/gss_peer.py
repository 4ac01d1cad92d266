#!/usr/bin/python3
"""An MIT GSS-API peer (python3-gssapi over libgssapi_krb5) for the interop
tests: one context, tokens as hex lines on stdin/stdout.

  gss_peer.py initiate SERVICE [BINDINGS]   prints the AP-REQ, reads the AP-REP
  gss_peer.py accept [BINDINGS]             reads the AP-REQ, prints the AP-REP

BINDINGS is the channel bindings' application data (as text; "-" or absent:
none). Environment: KRB5_CONFIG, KRB5CCNAME (initiator), KRB5_KTNAME
(acceptor). Output lines: "TOKEN <hex>", then "OK <flags>" or
"MIC <hex>" after a completed context, or "ERROR <major name> <message>".
"""
import sys

import gssapi
import gssapi.raw as raw


def bindings(arg):
    if arg is None or arg == "-":
        return None
    return raw.ChannelBindings(application_data=arg.encode())


def say(*parts):
    print(*parts, flush=True)


def read_token():
    line = sys.stdin.readline().strip()
    return bytes.fromhex(line)


def main():
    role = sys.argv[1]
    try:
        if role == "initiate":
            name = gssapi.Name(sys.argv[2], gssapi.NameType.kerberos_principal)
            ctx = gssapi.SecurityContext(
                name=name,
                usage="initiate",
                flags=gssapi.RequirementFlag.mutual_authentication
                | gssapi.RequirementFlag.integrity
                | gssapi.RequirementFlag.confidentiality
                | gssapi.RequirementFlag.replay_detection
                | gssapi.RequirementFlag.out_of_sequence_detection,
                channel_bindings=bindings(sys.argv[3] if len(sys.argv) > 3 else None),
            )
            say("TOKEN", ctx.step().hex())
            ctx.step(read_token())
        else:
            ctx = gssapi.SecurityContext(
                usage="accept",
                channel_bindings=bindings(sys.argv[2] if len(sys.argv) > 2 else None),
            )
            out = ctx.step(read_token())
            say("TOKEN", (out or b"").hex())
        if not ctx.complete:
            say("ERROR incomplete the context did not complete")
            return
        say("MIC", ctx.get_signature(b"signed by MIT").hex())
        say("OK", str(ctx.initiator_name) if role == "accept" else "complete")
    except gssapi.exceptions.GSSError as e:
        major = type(e).__name__
        say("ERROR", major, str(e).replace("\n", " "))


if __name__ == "__main__":
    main()
