#!/usr/bin/python3
"""An HTTP NTLM client over MIT GSS-API and gss-ntlmssp (python3-gssapi), to
check tests/tests/common/apache.rs's Apache with a client no one here wrote.

  gss_http_client.py URL --scheme NTLM|Negotiate --mech ntlm|spnego --user 'DOMAIN\\user'

The password comes from the environment variable GSS_PASSWORD. One HTTP/1.1
keep-alive connection carries every leg: the first request carries the first
token (the server's 401 is not waited for), each 401 with a token is answered
on the same connection. `--mech ntlm` sends raw NTLMSSP tokens under the
scheme; `--mech spnego` sends SPNEGO tokens offering only NTLMSSP
(gss_set_neg_mechs). On a 2xx the body goes to stdout and the exit status is 0;
a 401 without a token (refused) exits 2; anything else exits 1.
"""

import argparse
import base64
import http.client
import os
import sys
import urllib.parse

import gssapi
import gssapi.raw

NTLMSSP = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
MAX_LEGS = 4


def fail(status, message):
    print(f"gss_http_client: {message}", file=sys.stderr)
    sys.exit(status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--scheme", choices=["NTLM", "Negotiate"], required=True)
    parser.add_argument("--mech", choices=["ntlm", "spnego"], required=True)
    parser.add_argument("--user", required=True)
    args = parser.parse_args()
    password = os.environ.get("GSS_PASSWORD")
    if password is None:
        fail(1, "GSS_PASSWORD is not set")
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        fail(1, f"not an http:// URL: {args.url}")

    mech = SPNEGO if args.mech == "spnego" else NTLMSSP
    name = gssapi.Name(args.user, gssapi.NameType.user)
    try:
        creds = gssapi.raw.acquire_cred_with_password(
            name, password.encode(), usage="initiate", mechs=[mech]
        ).creds
        if mech == SPNEGO:
            gssapi.raw.set_neg_mechs(creds, [NTLMSSP])
        target = gssapi.Name(f"HTTP@{url.hostname}", gssapi.NameType.hostbased_service)
        ctx = gssapi.SecurityContext(name=target, creds=creds, usage="initiate", mech=mech)
        token = ctx.step(b"")
    except gssapi.exceptions.GSSError as e:
        fail(1, f"GSS-API: {e}")

    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
    path = url.path or "/"
    for _ in range(MAX_LEGS):
        value = f"{args.scheme} {base64.b64encode(token).decode()}"
        conn.request("GET", path, headers={"Authorization": value})
        response = conn.getresponse()
        body = response.read()
        challenge = None
        for header in response.headers.get_all("WWW-Authenticate") or []:
            scheme, _, data = header.strip().partition(" ")
            if scheme.lower() == args.scheme.lower() and data.strip():
                challenge = base64.b64decode(data.strip())
        if 200 <= response.status < 300:
            if challenge is not None and not ctx.complete:
                try:
                    ctx.step(challenge)
                except gssapi.exceptions.GSSError as e:
                    fail(2, f"the final token on the {response.status} fails: {e}")
            sys.stdout.write(body.decode())
            print(f"gss_http_client: {response.status}, mech {args.mech}", file=sys.stderr)
            return
        if response.status != 401:
            fail(1, f"HTTP {response.status}")
        if challenge is None:
            fail(2, "401: authentication refused")
        try:
            token = ctx.step(challenge)
        except gssapi.exceptions.GSSError as e:
            fail(2, f"GSS-API on the server's token: {e}")
    fail(1, f"no answer after {MAX_LEGS} legs")


if __name__ == "__main__":
    main()
