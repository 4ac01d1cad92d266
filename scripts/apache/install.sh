#!/bin/sh
# Installs the real HTTP server of tests/tests/http_apache.rs: Debian's Apache
# httpd (apache2-bin: /usr/sbin/apache2 and the modules in
# /usr/lib/apache2/modules) with mod_auth_gssapi (libapache2-mod-auth-gssapi),
# and gss-ntlmssp (NTLM for MIT GSS-API, so that mod_auth_gssapi can accept
# NTLM), after scripts/mit-krb5/install.sh (MIT kinit, python3-gssapi, curl).
# Idempotent and non-interactive; a no-op when everything is already there.
#
# Only apache2-bin is installed, not apache2: it has no init script, systemd
# unit, site or /etc/apache2 configuration, so nothing is enabled or started
# and port 80 stays free. The tests run their own unprivileged instance from a
# generated httpd.conf in a temporary directory.
set -eu
MODULES=/usr/lib/apache2/modules
# What tests/tests/common/apache.rs loads.
NEEDED_MODULES="mod_mpm_prefork.so mod_authn_core.so mod_authz_core.so mod_authz_user.so mod_include.so mod_auth_gssapi.so mod_ssl.so"

fail() {
    echo "apache/install.sh: $*" >&2
    exit 1
}

have_apache() {
    [ -x /usr/sbin/apache2 ] || return 1
    for m in $NEEDED_MODULES; do
        [ -f "$MODULES/$m" ] || return 1
    done
}
have_ntlmssp() {
    # Registered with MIT GSS-API (/etc/gss/mech.d) and the library is there.
    line=$(grep -hs '^[^#]*1\.3\.6\.1\.4\.1\.311\.2\.2\.10' /etc/gss/mech.d/*.conf 2>/dev/null | head -n 1)
    [ -n "$line" ] || return 1
    lib=$(echo "$line" | awk '{print $3}')
    [ -f "$lib" ]
}

sh "$(dirname "$0")/../mit-krb5/install.sh"

if have_apache && have_ntlmssp; then
    echo "apache: already installed ($(/usr/sbin/apache2 -v | head -n 1 | sed 's/^Server version: //'), mod_auth_gssapi, gss-ntlmssp)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    apache2-bin libapache2-mod-auth-gssapi gss-ntlmssp >/dev/null \
    || fail "apt-get could not install apache2-bin, libapache2-mod-auth-gssapi and gss-ntlmssp"

have_apache || fail "/usr/sbin/apache2 or one of $NEEDED_MODULES (in $MODULES) is missing after the install"
have_ntlmssp || fail "gss-ntlmssp is installed but not registered with MIT GSS-API (/etc/gss/mech.d/)"
/usr/sbin/apache2 -v >/dev/null || fail "/usr/sbin/apache2 -v fails"
echo "apache: installed $(/usr/sbin/apache2 -v | head -n 1 | sed 's/^Server version: //'), mod_auth_gssapi and gss-ntlmssp"
