#!/bin/sh
# Installs the SPNEGO interop peers of tests/tests/spnego_peers.rs (and of the
# Negotiate package's interop tests). Idempotent and non-interactive; a no-op
# when everything is already there.
#
#  * MIT Kerberos and python3-gssapi: scripts/mit-krb5/install.sh (Debian).
#  * gss-ntlmssp (Debian): the NTLMSSP mechanism (OID 1.3.6.1.4.1.311.2.2.10)
#    for MIT GSS-API, registered in /etc/gss/mech.d/, so /usr/bin/python3
#    with python3-gssapi can speak NTLM and SPNEGO-with-NTLM.
#  * pyspnego (PyPI, pinned below) in a virtualenv made from Debian's
#    /usr/bin/python3, WITHOUT the system site-packages, so that pyspnego
#    cannot see python3-gssapi and its Negotiate is its own pure-Python
#    SPNEGO + NTLM.
#
# Location: ${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}/pyspnego-venv
# (the tests compute the same path). It lives under the user's home, outside
# the repository (a fresh clone or `cargo clean` does not reinstall it; a
# per-version directory name keeps a pin change from mixing versions), and
# it is created with mode 0700 and checked to be owned by the user and not
# writable by group or others, as is every directory above it up to /:
# nothing the tests load comes from a place another user can write.
set -eu
PYSPNEGO_VERSION=0.11.2
# pyspnego's dependencies, pinned too (cryptography's cffi and pycparser).
DEPENDENCIES="cryptography==43.0.3 cffi==2.1.1 pycparser==3.12"
if [ -z "${SSPI_PEERS_DIR:-}" ] && [ -z "${HOME:-}" ]; then
    echo "spnego/install.sh: neither SSPI_PEERS_DIR nor HOME is set" >&2
    exit 1
fi
PEERS_DIR=${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}
VENV="$PEERS_DIR/pyspnego-$PYSPNEGO_VERSION"

fail() {
    echo "spnego/install.sh: $*" >&2
    exit 1
}

# check_private DIR: owned by us (or root) and writable by no one else, up to /.
. "$(dirname "$0")/../lib/private-dir.sh"

have_ntlmssp() {
    # The mechanism is registered with MIT GSS-API and loads.
    grep -qs '1.3.6.1.4.1.311.2.2.10' /etc/gss/mech.d/*.conf 2>/dev/null \
        && /usr/bin/python3 -c "
import gssapi
m = gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10')
assert m in gssapi.raw.indicate_mechs(), 'gss-ntlmssp is not loaded'
" >/dev/null 2>&1
}
have_pyspnego() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "
import sys
sys.modules['gssapi'] = None  # as the peer does: never GSSAPI
import spnego, spnego.ntlm, importlib.metadata as m
assert m.version('pyspnego') == '$PYSPNEGO_VERSION', m.version('pyspnego')
" >/dev/null 2>&1
}

sh "$(dirname "$0")/../mit-krb5/install.sh"

if have_ntlmssp && have_pyspnego; then
    check_private "$VENV"
    echo "spnego: already installed (gss-ntlmssp, pyspnego $PYSPNEGO_VERSION in $VENV)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! have_ntlmssp || ! /usr/bin/python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends gss-ntlmssp python3-venv >/dev/null
fi
have_ntlmssp || fail "gss-ntlmssp is installed but MIT GSS-API does not offer NTLMSSP (see /etc/gss/mech.d/)"

if ! have_pyspnego; then
    umask 077
    mkdir -p "$PEERS_DIR"
    chmod 700 "$PEERS_DIR"
    check_private "$PEERS_DIR"
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV"
    # Binary wheels only: nothing is compiled on the test machine.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
        --only-binary :all: "pyspnego==$PYSPNEGO_VERSION" $DEPENDENCIES
fi
check_private "$VENV"
have_pyspnego || fail "pyspnego $PYSPNEGO_VERSION does not import from $VENV/bin/python"
"$VENV/bin/python" -c "import sys; sys.modules['gssapi'] = None; import spnego, importlib.metadata as m; print('spnego: installed gss-ntlmssp and pyspnego', m.version('pyspnego'), 'in', sys.prefix)"
