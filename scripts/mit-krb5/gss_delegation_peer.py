#!/usr/bin/python3
"""An MIT GSS-API Kerberos peer for the delegation interop tests
(python3-gssapi over libgssapi_krb5). One context per process.

  gss_delegation_peer.py initiate SERVICE
      GSS_C_DELEG_FLAG | MUTUAL | INTEG | CONF to SERVICE (a Kerberos
      principal name, e.g. host/localhost) with the default credentials
      (KRB5CCNAME: a TGT from `kinit -f` is delegated; MIT silently does not
      delegate a TGT that is not forwardable).
  gss_delegation_peer.py accept SECOND SECOND_KEYTAB
      accepts one context with the default acceptor credentials
      (KRB5_KTNAME); then, when the initiator delegated, initiates a context
      to SECOND with the delegated credentials and accepts it here with the
      keys in SECOND_KEYTAB: the delegated TGT gets a ticket for SECOND from
      the KDC.

Lines (stdout, flushed; stdin, one hex token per line):
  out "TOKEN <hex>"        an output token (the initiator starts)
  in  "<hex>"              the peer's token
  out "OK krb5 <name>"     the context is complete; <name> the initiator
                           (acceptor) or "-" (initiator)
  out "DELEGATED <name> <onward>"  (acceptor) the delegated credentials'
                           name, and the initiator name SECOND's acceptor saw
  out "NOT-DELEGATED"      (acceptor) the initiator delegated nothing
  out "ERROR <what>"       on any failure, then exit 1
"""
import sys

import gssapi

FLAGS = (
    gssapi.RequirementFlag.mutual_authentication
    | gssapi.RequirementFlag.integrity
    | gssapi.RequirementFlag.confidentiality
)


def say(*parts):
    print(*parts, flush=True)


def read_token():
    line = sys.stdin.readline()
    if not line:
        raise RuntimeError("stdin closed")
    return bytes.fromhex(line.strip())


def principal(text):
    return gssapi.Name(text, gssapi.NameType.kerberos_principal)


def initiate(service):
    ctx = gssapi.SecurityContext(
        name=principal(service),
        usage="initiate",
        flags=FLAGS | gssapi.RequirementFlag.delegate_to_peer,
    )
    say("TOKEN", ctx.step().hex())
    ctx.step(read_token())
    if not ctx.complete:
        raise RuntimeError("the context did not complete")
    say("OK krb5 -")


def accept(second, second_keytab):
    ctx = gssapi.SecurityContext(usage="accept")
    out = ctx.step(read_token())
    say("TOKEN", (out or b"").hex())
    if not ctx.complete:
        raise RuntimeError("the context did not complete")
    say("OK krb5", str(ctx.initiator_name))
    delegated = ctx.delegated_creds
    if delegated is None:
        say("NOT-DELEGATED")
        return
    onward = gssapi.SecurityContext(
        name=principal(second), creds=delegated, usage="initiate", flags=FLAGS
    )
    acceptor_creds = gssapi.Credentials(
        usage="accept", store={"keytab": "FILE:" + second_keytab}
    )
    acceptor = gssapi.SecurityContext(creds=acceptor_creds, usage="accept")
    reply = acceptor.step(onward.step())
    onward.step(reply)
    if not (onward.complete and acceptor.complete):
        raise RuntimeError("the onward context did not complete")
    say("DELEGATED", str(delegated.name), str(acceptor.initiator_name))


def main():
    try:
        if sys.argv[1] == "initiate":
            initiate(sys.argv[2])
        else:
            accept(sys.argv[2], sys.argv[3])
    except Exception as e:  # noqa: BLE001 - every failure is reported as a line
        say("ERROR", type(e).__name__, str(e).replace("\n", " "))
        sys.exit(1)


if __name__ == "__main__":
    main()
