"""One GET with python `requests` and requests-gssapi or requests-ntlm.

Run by the virtualenv of scripts/http-python/install.sh:

    requests_peer.py URL --auth gssapi [--mutual required|optional|disabled]
                         [--channel-bindings | --wrong-channel-bindings]
                         [--ca-cert PEM] [--timeout S]
    requests_peer.py URL --auth ntlm --user 'DOMAIN\\user' [--password-env VAR]
                         [--channel-bindings | --no-channel-bindings |
                          --wrong-channel-bindings] [--ca-cert PEM]

gssapi: requests_gssapi.HTTPSPNEGOAuth (SPNEGO through MIT GSS-API, the
ticket from KRB5CCNAME, target HTTP@<url host>); --channel-bindings passes
channel_bindings="tls-server-end-point". ntlm: requests_ntlm.HttpNtlmAuth
(pyspnego's pure-Python NTLM, the password from the environment variable
--password-env, default SSPI_PASSWORD); send_cbt is True unless
--no-channel-bindings (requests-ntlm's own default is True).
--wrong-channel-bindings (for tests) sends bindings whose certificate hash
has one bit flipped, as a client behind a TLS man in the middle would.
Proxies, netrc and the environment's CA settings are ignored; --ca-cert is
the only CA trusted for https (without it, the system's).

Output, stdout: `status: CODE`, then the body unchanged. stderr: one line
`requests_peer: ...` with the scheme and mechanism of the last Authorization
header sent, the number of legs, whether the response carried a final
WWW-Authenticate token, and for NTLM whether the AUTHENTICATE_MESSAGE held
channel bindings and a MIC (read from its AV pairs; never the token itself).

Exit: 0 on a 2xx; 2 when authentication was refused (a 401 after our token,
or a mutual-authentication failure: the body is then not printed); 1 for any
other failure (usage, connection, TLS, another status).
"""

import argparse
import base64
import logging
import os
import struct
import sys

import requests

SPNEGO_OID = bytes.fromhex("06062b0601050502")
KRB5_OID = bytes.fromhex("06092a864886f712010202")
NTLM_SIGNATURE = b"NTLMSSP\x00"
MSV_AV_EOL, MSV_AV_FLAGS, MSV_AV_CHANNEL_BINDINGS = 0, 6, 10


class _MessageOnly(logging.Formatter):
    """requests-gssapi logs GSS failures with log.exception: keep the text, drop the traceback."""

    def format(self, record):
        return f"requests_peer: {record.name}: {record.getMessage().rstrip(chr(0))}"


def fail(code, message):
    print(f"requests_peer: {message}", file=sys.stderr)
    sys.exit(code)


def ntlm_av_pairs(message):
    """The AV pairs of an NTLMv2 AUTHENTICATE_MESSAGE's NtChallengeResponse."""
    if len(message) < 28 or message[:8] != NTLM_SIGNATURE:
        return None
    if struct.unpack_from("<I", message, 8)[0] != 3:
        return None
    length, _, offset = struct.unpack_from("<HHI", message, 20)
    response = message[offset : offset + length]
    # NTProofStr (16), then the blob: RespType, HiRespType, 6 reserved,
    # TimeStamp (8), ChallengeFromClient (8), 4 reserved, then the AV pairs.
    pos = 16 + 28
    pairs = {}
    while pos + 4 <= len(response):
        av_id, av_len = struct.unpack_from("<HH", response, pos)
        if av_id == MSV_AV_EOL:
            break
        pairs[av_id] = response[pos + 4 : pos + 4 + av_len]
        pos += 4 + av_len
    return pairs


def describe_token(token):
    """The mechanism of a token, sniffed the way a Negotiate acceptor does."""
    if token.startswith(NTLM_SIGNATURE):
        kind = struct.unpack_from("<I", token, 8)[0] if len(token) >= 12 else 0
        text = f"mechanism=NTLM (raw NTLMSSP, message {kind})"
        pairs = ntlm_av_pairs(token)
        if pairs is not None:
            cb = pairs.get(MSV_AV_CHANNEL_BINDINGS)
            bindings = "absent" if cb is None or cb == bytes(len(cb)) else "sent"
            flags = pairs.get(MSV_AV_FLAGS)
            mic = bool(flags) and struct.unpack("<I", flags[:4])[0] & 2 != 0
            text += f", channel-bindings={bindings}, mic={'yes' if mic else 'no'}"
        return text
    if token[:1] == b"\x60":
        if SPNEGO_OID in token[:16]:
            inner = "Kerberos" if KRB5_OID in token[:80] else "other"
            return f"mechanism=SPNEGO (NegTokenInit, first mechanism {inner})"
        if KRB5_OID in token[:16]:
            return "mechanism=Kerberos (raw AP-REQ)"
        return "mechanism=unknown GSS token"
    if token[:1] == b"\xa1":
        return "mechanism=SPNEGO (NegTokenResp)"
    return "mechanism=unknown"


def summary(response):
    sent = response.request.headers.get("Authorization")
    if sent is None:
        text = "no Authorization sent"
    else:
        scheme, _, data = sent.partition(" ")
        try:
            token = base64.b64decode(data)
        except ValueError:
            token = b""
        text = f"scheme={scheme}, {describe_token(token)}"
    legs = len(response.history) + 1
    final = response.headers.get("WWW-Authenticate", "")
    has_final = response.ok and " " in final.strip()
    return f"{text}, legs={legs}, final-token={'yes' if has_final else 'no'}"


def wrong_channel_bindings(auth):
    """Makes the client's channel bindings wrong: the last byte of the
    application data (`tls-server-end-point:` and the certificate's hash)
    gets one bit flipped where the library builds the bindings structure
    (gssapi.raw.ChannelBindings for requests-gssapi,
    spnego.channel_bindings.GssChannelBindings for requests-ntlm), as if the
    client had talked TLS to someone else (a man in the middle)."""

    def flipped(make):
        def make_wrong(*a, application_data=None, **kw):
            data = application_data[:-1] + bytes([application_data[-1] ^ 1])
            return make(*a, application_data=data, **kw)

        return make_wrong

    if auth == "gssapi":
        import gssapi.raw

        gssapi.raw.ChannelBindings = flipped(gssapi.raw.ChannelBindings)
    else:
        import spnego.channel_bindings

        spnego.channel_bindings.GssChannelBindings = flipped(spnego.channel_bindings.GssChannelBindings)


def check_mutual(auth, response, required):
    """Whether MIT GSS-API really accepted the server's final token.

    requests-gssapi steps its context with the token on the 2xx and treats
    "no exception" as success, but python-gssapi defers a failed step's
    error (__DEFER_STEP_ERRORS__, its default) until the context is next
    used: an AP-REP that fails to verify gets through. So look at the
    context: reading it raises the deferred error; it must be complete
    with mutual authentication among its flags.
    """
    import gssapi
    from urllib.parse import urlparse

    context = auth.context.get(urlparse(response.url).hostname)
    if context is None:
        if required:
            fail(2, "authentication refused: mutual authentication required, but no context was made")
        return "mutual=not offered"
    try:
        complete = context.complete
        flags = context.actual_flags
    except gssapi.exceptions.GSSError as e:
        fail(2, f"authentication refused: the server's final token did not verify "
                f"(requests-gssapi did not notice; MIT GSS-API: {e.gen_message().rstrip(chr(0))})")
    if not complete:
        if required:
            fail(2, "authentication refused: mutual authentication required, but the context is not complete")
        return "mutual=not offered"
    if gssapi.RequirementFlag.mutual_authentication not in flags:
        fail(2, "authentication refused: the context completed without mutual authentication")
    return "mutual=verified"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--auth", choices=["gssapi", "ntlm"], required=True)
    parser.add_argument("--user", help="DOMAIN\\user (ntlm)")
    parser.add_argument("--password-env", default="SSPI_PASSWORD")
    parser.add_argument("--mutual", choices=["required", "optional", "disabled"], default="required")
    bindings = parser.add_mutually_exclusive_group()
    bindings.add_argument("--channel-bindings", dest="cb", action="store_true", default=None)
    bindings.add_argument("--no-channel-bindings", dest="cb", action="store_false")
    bindings.add_argument(
        "--wrong-channel-bindings",
        dest="cb",
        action="store_const",
        const="wrong",
        help="test only: send tls-server-end-point bindings with one bit of the hash flipped",
    )
    parser.add_argument("--ca-cert", help="PEM file: the only CA trusted for https")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    if args.cb == "wrong":
        wrong_channel_bindings(args.auth)

    if args.auth == "gssapi":
        import requests_gssapi

        mutual = {
            "required": requests_gssapi.REQUIRED,
            "optional": requests_gssapi.OPTIONAL,
            "disabled": requests_gssapi.DISABLED,
        }[args.mutual]
        auth = requests_gssapi.HTTPSPNEGOAuth(
            mutual_authentication=mutual,
            channel_bindings="tls-server-end-point" if args.cb else None,
        )
        refused = (requests_gssapi.exceptions.MutualAuthenticationError,)
    else:
        import requests_ntlm

        if not args.user:
            fail(1, "--auth ntlm needs --user DOMAIN\\user")
        password = os.environ.get(args.password_env)
        if password is None:
            fail(1, f"--auth ntlm: the environment variable {args.password_env} (the password) is not set")
        auth = requests_ntlm.HttpNtlmAuth(args.user, password, send_cbt=args.cb is not False)
        refused = (PermissionError,)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MessageOnly())
    for name in ("requests_gssapi", "spnego"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.ERROR)

    session = requests.Session()
    session.trust_env = False  # no proxies, netrc or REQUESTS_CA_BUNDLE
    try:
        response = session.get(
            args.url,
            auth=auth,
            timeout=args.timeout,
            verify=args.ca_cert if args.ca_cert else True,
        )
    except refused as e:
        fail(2, f"authentication refused: {type(e).__name__}: {e}")
    except requests.exceptions.SSLError as e:
        fail(1, f"TLS failed: {e}")
    except requests.exceptions.RequestException as e:
        fail(1, f"request failed: {type(e).__name__}: {e}")

    line = f"requests_peer: {response.status_code} {response.reason}, {summary(response)}"
    if args.auth == "ntlm" and auth.session_security is not None:
        # Which pyspnego context did the NTLM: NTLMProxy is its own
        # pure-Python NTLM, GSSAPIProxy would be gss-ntlmssp through MIT.
        line += f", context={type(auth.session_security._context).__name__}"
    if args.auth == "gssapi" and args.mutual != "disabled" and response.ok:
        line += ", " + check_mutual(auth, response, required=args.mutual == "required")
    print(line, file=sys.stderr)
    if response.status_code == 401:
        fail(2, "authentication refused: 401 after our token" if "Authorization" in response.request.headers
             else "authentication refused: 401 and no token could be made")
    if not response.ok:
        fail(1, f"unexpected status {response.status_code} {response.reason}")
    sys.stdout.write(f"status: {response.status_code}\n")
    sys.stdout.write(response.text)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
