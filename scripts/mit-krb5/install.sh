#!/bin/sh
# Installs the MIT Kerberos KDC, kadmin and client tools (Debian/Ubuntu) and
# the GSS-API peer (Debian's python3-gssapi over MIT libgssapi_krb5, run by
# /usr/bin/python3) for the interop tests tests/tests/kerberos_mit.rs, and gcc
# (with /usr/bin/python3) for the C ABI tests capi/tests/*.rs, and curl (GSS-API
# SPNEGO and NTLM) for the HTTP tests tests/tests/http_curl.rs.
# Idempotent and non-interactive; a no-op when everything is already there.
set -eu
have_tools() {
    command -v krb5kdc >/dev/null 2>&1 && command -v kdb5_util >/dev/null 2>&1 \
        && command -v kadmin.local >/dev/null 2>&1 && command -v kinit >/dev/null 2>&1 \
        && command -v kvno >/dev/null 2>&1
}
have_c() {
    command -v gcc >/dev/null 2>&1
}
have_curl() {
    command -v curl >/dev/null 2>&1 && curl -V | grep -q "^Features:.* SPNEGO"
}
have_peer() {
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import gssapi" >/dev/null 2>&1
}
if have_tools && have_peer && have_c && have_curl; then
    echo "mit-krb5: already installed ($(command -v krb5kdc), python3-gssapi, gcc, curl)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The packages' debconf questions (default realm, servers) are answered empty;
# the test writes its own krb5.conf and kdc.conf and never uses /etc/krb5.conf.
$SUDO apt-get install -y -qq --no-install-recommends \
    krb5-kdc krb5-admin-server krb5-user python3-gssapi gcc libc6-dev curl ca-certificates >/dev/null
have_tools && have_peer && have_c && have_curl
echo "mit-krb5: installed $(command -v krb5kdc), python3-gssapi, gcc and curl"
