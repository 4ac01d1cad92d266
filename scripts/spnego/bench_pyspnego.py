"""Times pyspnego's own Negotiate(NTLM) handshake: pure-Python SPNEGO
(protocol="negotiate", options=NegotiateOptions.use_negotiate) with its
pure-Python NTLM inside, initiator and acceptor in this one process, tokens
handed across in memory. Run it with the Python of the virtualenv
scripts/spnego/install.sh made
(${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}/pyspnego-<version>/bin/python).

One handshake (what each timing covers): spnego.client(...) and
spnego.server(...) created, then every step until both are complete and no
token is left: NEGOTIATE in NegTokenInit, CHALLENGE, AUTHENTICATE with the
MIC and mechListMIC, accept-completed with the acceptor's mechListMIC, the
initiator checking it (4 tokens, 5 steps). The acceptor looks the user up in
NTLM_USER_FILE ("DOMAIN:user:password" lines; pyspnego reads the file on
each authentication); without NTLM_USER_FILE the script writes a private
temporary one with --domain, --user and --password. Before timing, one
handshake is checked: both sides negotiated "ntlm", the acceptor names the
user, and a sealed wrap and a signature cross both ways. GSSAPI is blocked
(as in pyspnego_peer.py), so pyspnego cannot reach Kerberos.

  bench_pyspnego.py [--iterations N] [--warmup W] [--user U] [--domain D] [--password P]
      W untimed handshakes, then N timed one by one; prints a summary line
      and "MEDIAN_NS <median nanoseconds per handshake>".
  bench_pyspnego.py --serve [--user U] [--domain D] [--password P]
      For a driver (tests/benches/negotiate.rs, criterion's iter_custom):
      prints "READY <pyspnego version>", then for each stdin line "<n>" runs
      n handshakes and prints "ELAPSED_NS <sum of the n handshakes' times>";
      the line "STATS" prints "MEDIAN_NS <median> COUNT <handshakes so far>";
      exits at end of input.
  On any failure: "ERROR <what>" and exit status 1.
"""
import os
import statistics
import sys
import tempfile
import time

sys.modules["gssapi"] = None  # pyspnego's own SPNEGO and NTLM, never GSSAPI.
sys.modules["krb5"] = None

import importlib.metadata  # noqa: E402

import spnego  # noqa: E402

HOSTNAME = "localhost"
SERVICE = "host"


def say(*parts):
    print(*parts, flush=True)


def fail(what):
    say("ERROR", str(what).replace("\n", " "))
    sys.exit(1)


def options(args):
    opts = {"user": "alice", "domain": "SSPI-PLUG", "password": "alice-password"}
    flags = set()
    i = 0
    while i < len(args):
        if args[i] == "--serve":
            flags.add("serve")
            i += 1
            continue
        if not args[i].startswith("--") or i + 1 >= len(args):
            fail(f"bad argument {args[i]!r} (see the script's docstring)")
        opts[args[i][2:]] = args[i + 1]
        i += 2
    return opts, flags


def handshake(user, password):
    """One complete handshake; returns (client, server)."""
    common = dict(
        hostname=HOSTNAME,
        service=SERVICE,
        protocol="negotiate",
        options=spnego.NegotiateOptions.use_negotiate,
    )
    client = spnego.client(user, password, **common)
    server = spnego.server(**common)
    token = client.step()
    sides = (server, client)
    turn = 0
    steps = 1
    while token:
        token = sides[turn].step(token)
        turn ^= 1
        steps += 1
        if steps > 8:
            fail("the handshake did not finish in 8 steps")
    if not (client.complete and server.complete):
        fail(f"no token left but complete: initiator {client.complete}, acceptor {server.complete}")
    return client, server


def check(user, password):
    """One handshake, checked: NTLM negotiated, the user named, messages both ways."""
    client, server = handshake(user, password)
    for side, ctx in (("initiator", client), ("acceptor", server)):
        if ctx.negotiated_protocol != "ntlm":
            fail(f"the {side} negotiated {ctx.negotiated_protocol!r}, not pyspnego's NTLM")
    if (server.client_principal or "").lower() != user.lower():
        fail(f"the acceptor names {server.client_principal!r}, not {user!r}")
    for a, b in ((client, server), (server, client)):
        wrapped = a.wrap(b"bench check", encrypt=True)
        res = b.unwrap(wrapped.data)
        if res.data != b"bench check" or not res.encrypted:
            fail("a sealed message did not round-trip")
        b.verify(b"bench mic", a.sign(b"bench mic"))


def timed(user, password):
    start = time.perf_counter_ns()
    handshake(user, password)
    return time.perf_counter_ns() - start


def main():
    opts, flags = options(sys.argv[1:])
    user = opts["domain"] + "\\" + opts["user"] if opts.get("domain") else opts["user"]
    password = opts["password"]
    if not os.environ.get("NTLM_USER_FILE"):
        fd, path = tempfile.mkstemp(prefix="bench_pyspnego_users_")  # mode 0600
        with os.fdopen(fd, "w") as f:
            f.write(f"{opts['domain']}:{opts['user']}:{password}\n")
        os.environ["NTLM_USER_FILE"] = path
    try:
        check(user, password)
    except SystemExit:
        raise
    except Exception as e:  # pyspnego raises several families
        fail(f"{type(e).__name__} {e}")
    version = importlib.metadata.version("pyspnego")
    times = []
    try:
        if "serve" in flags:
            say("READY", version)
            for line in sys.stdin:
                line = line.strip()
                if line == "STATS":
                    median = int(statistics.median(times)) if times else 0
                    say("MEDIAN_NS", median, "COUNT", len(times))
                    continue
                try:
                    n = int(line)
                except ValueError:
                    fail(f"expected a count or STATS, got {line!r}")
                total = 0
                for _ in range(n):
                    t = timed(user, password)
                    times.append(t)
                    total += t
                say("ELAPSED_NS", total)
            return
        warmup = int(opts.get("warmup", "20"))
        iterations = int(opts.get("iterations", "500"))
        if iterations < 1:
            fail("--iterations must be at least 1")
        for _ in range(warmup):
            handshake(user, password)
        times = [timed(user, password) for _ in range(iterations)]
    except SystemExit:
        raise
    except Exception as e:
        fail(f"{type(e).__name__} {e}")
    times.sort()
    median = int(statistics.median(times))
    p10 = times[len(times) // 10]
    p90 = times[(len(times) * 9) // 10]
    say(
        f"pyspnego {version} Negotiate(NTLM) handshake, initiator and acceptor in one process: "
        f"median {median / 1000:.1f} us over {iterations} (p10 {p10 / 1000:.1f} us, "
        f"p90 {p90 / 1000:.1f} us, {warmup} warm-up)"
    )
    say("MEDIAN_NS", median)


if __name__ == "__main__":
    main()
