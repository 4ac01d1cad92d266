#!/bin/sh
# Installs the Python HTTP clients of tests/tests/http_python.rs:
# requests with requests-gssapi (RFC 4559 Negotiate through MIT GSS-API) and
# requests-ntlm (NTLM through pyspnego's pure-Python NTLM). Idempotent and
# non-interactive; a fast no-op when everything is already there, a loud
# failure (non-zero exit, a message naming what is wrong) otherwise.
#
#  * MIT Kerberos (kinit) and Debian's python3-gssapi (the `gssapi` binding
#    over MIT libgssapi_krb5): scripts/mit-krb5/install.sh. PyPI's `gssapi`
#    has no Linux wheels and nothing may be compiled here, and bookworm has no
#    python3-requests-gssapi, so the virtualenv below is made from Debian's
#    /usr/bin/python3 WITH the system site-packages: it sees Debian's gssapi
#    (and its `decorator`), and everything else comes from the pinned wheels
#    inside the virtualenv, which take precedence over Debian's copies.
#  * From PyPI, pinned below, binary wheels only: requests, requests-gssapi,
#    requests-ntlm, pyspnego, cryptography and their dependencies.
#
# Location: ${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}/http-python-<pins>
# (the tests compute the same path). Outside the repository (a fresh clone
# or `cargo clean` does not reinstall it), one directory per set of pins (a
# pin change never mixes versions), created with mode 0700 and checked to be
# owned by the user (or root) and not writable by group or others, as is
# every directory above it up to /.
set -eu
REQUESTS_GSSAPI_VERSION=1.4.0
REQUESTS_NTLM_VERSION=1.3.0
# Everything else in the virtualenv, pinned too (`pip freeze --local`).
DEPENDENCIES="requests==2.34.2 urllib3==2.8.0 idna==3.20 charset-normalizer==3.5.3
certifi==2026.10.19.post1 pyspnego==0.11.2 cryptography==43.0.3 cffi==2.1.1 pycparser==3.12"
if [ -z "${SSPI_PEERS_DIR:-}" ] && [ -z "${HOME:-}" ]; then
    echo "http-python/install.sh: neither SSPI_PEERS_DIR nor HOME is set" >&2
    exit 1
fi
PEERS_DIR=${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}
VENV="$PEERS_DIR/http-python-gssapi$REQUESTS_GSSAPI_VERSION-ntlm$REQUESTS_NTLM_VERSION"

fail() {
    echo "http-python/install.sh: $*" >&2
    exit 1
}

# check_private DIR: owned by us (or root) and writable by no one else, up to /.
. "$(dirname "$0")/../lib/private-dir.sh"

# Every pin imports from the virtualenv, and gssapi from Debian's package.
have_clients() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "
import sys, importlib.metadata as m
import requests, requests_gssapi, requests_ntlm, spnego, gssapi
want = {'requests-gssapi': '$REQUESTS_GSSAPI_VERSION', 'requests-ntlm': '$REQUESTS_NTLM_VERSION'}
want.update(p.split('==') for p in '''$DEPENDENCIES'''.split())
for name, version in want.items():
    assert m.version(name) == version, (name, m.version(name), version)
    assert m.distribution(name).locate_file('').as_posix().startswith(sys.prefix), name
assert gssapi.__file__.startswith('/usr/lib/python3/dist-packages/'), gssapi.__file__
" >/dev/null 2>&1
}

sh "$(dirname "$0")/../mit-krb5/install.sh"

if have_clients; then
    check_private "$VENV"
    echo "http-python: already installed (requests-gssapi $REQUESTS_GSSAPI_VERSION, requests-ntlm $REQUESTS_NTLM_VERSION in $VENV)"
    exit 0
fi

if ! /usr/bin/python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
/usr/bin/python3 -c "import gssapi" >/dev/null 2>&1 \
    || fail "Debian's python3-gssapi does not import in /usr/bin/python3 (scripts/mit-krb5/install.sh installs it)"

umask 077
mkdir -p "$PEERS_DIR"
chmod 700 "$PEERS_DIR"
check_private "$PEERS_DIR"
rm -rf "$VENV"
/usr/bin/python3 -m venv --system-site-packages "$VENV"
# Binary wheels only: nothing is compiled on the test machine. --ignore-installed:
# the pins go into the virtualenv even where Debian has the same or another
# version. requests-gssapi goes in without its dependencies (its `gssapi` is
# Debian's, which pip would otherwise look for on PyPI); have_clients below
# then proves that it imports, with Debian's gssapi. (Not `pip check`: it
# also judges Debian's own packages, which are not ours to fix.)
PIP="$VENV/bin/python -m pip --disable-pip-version-check --no-input"
# shellcheck disable=SC2086
$PIP install -q --only-binary :all: --ignore-installed \
    "requests-ntlm==$REQUESTS_NTLM_VERSION" $DEPENDENCIES \
    || fail "pip could not install the pinned wheels into $VENV"
$PIP install -q --only-binary :all: --no-deps "requests-gssapi==$REQUESTS_GSSAPI_VERSION" \
    || fail "pip could not install requests-gssapi $REQUESTS_GSSAPI_VERSION into $VENV"
check_private "$VENV"
have_clients || fail "requests-gssapi $REQUESTS_GSSAPI_VERSION / requests-ntlm $REQUESTS_NTLM_VERSION (and pins) do not import from $VENV/bin/python with Debian's gssapi"
"$VENV/bin/python" -c "import sys, gssapi, importlib.metadata as m; print('http-python: installed requests-gssapi', m.version('requests-gssapi'), 'and requests-ntlm', m.version('requests-ntlm'), 'in', sys.prefix, '(gssapi from', gssapi.__file__ + ')')"
