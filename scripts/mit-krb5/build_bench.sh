#!/bin/sh
# Builds the MIT side of the Kerberos benchmark, scripts/mit-krb5/gss_bench.c,
# against Debian's libgssapi_krb5 (installing libkrb5-dev and a C compiler if
# they are missing) into $1 (default: target/mit-gss-bench). Idempotent: the
# program is rebuilt only when the source is newer. Prints the program's path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../target/mit-gss-bench"}
if ! [ -f /usr/include/gssapi/gssapi_krb5.h ] || ! command -v cc >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends libkrb5-dev gcc libc6-dev >/dev/null
fi
if ! [ -x "$out" ] || [ "$here/gss_bench.c" -nt "$out" ]; then
    mkdir -p "$(dirname "$out")"
    cc -O2 -Wall -o "$out" "$here/gss_bench.c" -lgssapi_krb5 -lkrb5
fi
echo "$out"
