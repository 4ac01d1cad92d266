#!/bin/sh
# Installs the MIT Kerberos KDC, kadmin and client tools (Debian/Ubuntu) for
# the interop test tests/tests/kerberos_mit.rs. Idempotent and non-interactive;
# a no-op when the tools are already there.
set -eu
if command -v krb5kdc >/dev/null 2>&1 && command -v kdb5_util >/dev/null 2>&1 \
    && command -v kadmin.local >/dev/null 2>&1 && command -v kinit >/dev/null 2>&1 \
    && command -v kvno >/dev/null 2>&1; then
    echo "mit-krb5: already installed ($(command -v krb5kdc))"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The packages' debconf questions (default realm, servers) are answered empty;
# the test writes its own krb5.conf and kdc.conf and never uses /etc/krb5.conf.
$SUDO apt-get install -y -qq --no-install-recommends krb5-kdc krb5-admin-server krb5-user >/dev/null
echo "mit-krb5: installed $(command -v krb5kdc)"
