#!/bin/sh
# Creates an MIT Kerberos realm in DIR for a KDC on 127.0.0.1:PORT:
#   krb5.conf, kdc.conf, the database (kdb5_util create -s), principals
#   alice (password alice-password, +requires_preauth), host/localhost
#   (random key, +ok_as_delegate: trusted for delegation) in
#   DIR/service.keytab (kadmin.local ktadd -k), and a second service
#   HTTP/localhost (random key, not ok_as_delegate) in DIR/second.keytab.
# Then start the KDC with:
#   KRB5_CONFIG=DIR/krb5.conf KRB5_KDC_PROFILE=DIR/kdc.conf krb5kdc -n
# Usage: realm.sh DIR PORT [REALM [ENCTYPES]]
#   REALM defaults to MIT.TEST; ENCTYPES (space-separated, e.g.
#   "aes256-cts-hmac-sha384-192") are the realm's only enctypes: the keys of
#   every principal (supported_enctypes) and what the tools permit; default
#   "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96".
set -eu
DIR=$1
PORT=$2
REALM=${3:-MIT.TEST}
ENCTYPES=${4:-"aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96"}
mkdir -p "$DIR"
SUPPORTED=""
for e in $ENCTYPES; do SUPPORTED="$SUPPORTED $e:normal"; done
SUPPORTED=${SUPPORTED# }
cat > "$DIR/krb5.conf" <<CONF
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = FILE:$DIR/ccache
    permitted_enctypes = $ENCTYPES
    default_tkt_enctypes = $ENCTYPES
    default_tgs_enctypes = $ENCTYPES
[realms]
    $REALM = {
        kdc = 127.0.0.1:$PORT
    }
CONF
cat > "$DIR/kdc.conf" <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$PORT
    kdc_tcp_listen = 127.0.0.1:$PORT
[realms]
    $REALM = {
        database_name = $DIR/principal
        key_stash_file = $DIR/stash
        acl_file = $DIR/kadm5.acl
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = $SUPPORTED
        max_life = 10h 0m 0s
    }
[logging]
    kdc = FILE:$DIR/kdc.log
CONF
: > "$DIR/kadm5.acl"
export KRB5_CONFIG="$DIR/krb5.conf" KRB5_KDC_PROFILE="$DIR/kdc.conf"
PATH="$PATH:/usr/sbin:/sbin"
kdb5_util create -s -r "$REALM" -P "master-password-$$" >/dev/null
kadmin.local -r "$REALM" -q "addprinc -pw alice-password +requires_preauth alice" >/dev/null
kadmin.local -r "$REALM" -q "addprinc -randkey +ok_as_delegate host/localhost" >/dev/null
kadmin.local -r "$REALM" -q "ktadd -k $DIR/service.keytab host/localhost" >/dev/null
kadmin.local -r "$REALM" -q "addprinc -randkey HTTP/localhost" >/dev/null
kadmin.local -r "$REALM" -q "ktadd -k $DIR/second.keytab HTTP/localhost" >/dev/null
echo "realm $REALM ready in $DIR (KDC port $PORT)"
