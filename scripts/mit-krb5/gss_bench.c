/*
 * The MIT side of the Kerberos benchmark (tests/benches/kerberos.rs): MIT
 * GSS-API (libgssapi_krb5) doing, in one process, what the bench measures
 * of ours, and printing the median time of each.
 *
 *   gss_bench AP N TARGET        N AP exchanges with mutual authentication
 *                                (init, accept, init), tickets from the
 *                                credential cache copied into a MEMORY
 *                                cache, replay cache on (MIT's default)
 *   gss_bench WRAP N TARGET LEN  one context, then N gss_wrap (sealed) +
 *                                gss_unwrap of LEN bytes
 *
 * Environment: KRB5_CONFIG, KRB5CCNAME (a FILE: cache holding a TGT and, after
 * the first exchange, the service ticket), KRB5_KTNAME (the acceptor's
 * keytab), KRB5RCACHEDIR. Output: "MEDIAN_NS <n>" and "ENCTYPE <n>" (the
 * session key's enctype), or "ERROR <what>" and exit status 1.
 *
 * Built by scripts/mit-krb5/build_bench.sh; not part of the library.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fail(const char *what, OM_uint32 major, OM_uint32 minor)
{
    OM_uint32 m, ctx = 0;
    gss_buffer_desc text;
    fprintf(stdout, "ERROR %s (major 0x%x, minor %u", what, major, minor);
    if (minor != 0) {
        gss_display_status(&m, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &text);
        fprintf(stdout, ": %.*s", (int)text.length, (char *)text.value);
        gss_release_buffer(&m, &text);
    }
    fprintf(stdout, ")\n");
    exit(1);
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Copies the FILE cache named by KRB5CCNAME into MEMORY:sspi-bench and makes
 * GSS-API use it. */
static void memory_ccache(void)
{
    krb5_context k;
    krb5_ccache from, to;
    krb5_principal me;
    OM_uint32 minor;
    if (krb5_init_context(&k) || krb5_cc_default(k, &from) ||
        krb5_cc_get_principal(k, from, &me) ||
        krb5_cc_resolve(k, "MEMORY:sspi-bench", &to) ||
        krb5_cc_initialize(k, to, me) || krb5_cc_copy_creds(k, from, to)) {
        fprintf(stdout, "ERROR cannot copy the credential cache into memory\n");
        exit(1);
    }
    /* The MEMORY cache lives as long as the context: keep both open. */
    if (gss_krb5_ccache_name(&minor, "MEMORY:sspi-bench", NULL) != GSS_S_COMPLETE)
        fail("gss_krb5_ccache_name", GSS_S_FAILURE, minor);
}

static gss_name_t target_name(const char *target)
{
    OM_uint32 major, minor;
    gss_name_t name;
    gss_buffer_desc buffer = {strlen(target), (void *)target};
    major = gss_import_name(&minor, &buffer, GSS_C_NT_HOSTBASED_SERVICE, &name);
    if (major != GSS_S_COMPLETE)
        fail("gss_import_name", major, minor);
    return name;
}

/* One AP exchange with mutual authentication; returns both contexts. */
static void exchange(gss_name_t target, gss_ctx_id_t *initiator, gss_ctx_id_t *acceptor)
{
    OM_uint32 major, minor;
    gss_buffer_desc ap_req = GSS_C_EMPTY_BUFFER, ap_rep = GSS_C_EMPTY_BUFFER,
                    empty = GSS_C_EMPTY_BUFFER;
    OM_uint32 flags = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
                      GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG;
    *initiator = GSS_C_NO_CONTEXT;
    *acceptor = GSS_C_NO_CONTEXT;
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, initiator, target,
                                 (gss_OID)gss_mech_krb5, flags, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                 &empty, NULL, &ap_req, NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED)
        fail("gss_init_sec_context (AP-REQ)", major, minor);
    major = gss_accept_sec_context(&minor, acceptor, GSS_C_NO_CREDENTIAL, &ap_req,
                                   GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &ap_rep, NULL, NULL,
                                   NULL);
    if (major != GSS_S_COMPLETE)
        fail("gss_accept_sec_context", major, minor);
    gss_release_buffer(&minor, &ap_req);
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, initiator, target,
                                 (gss_OID)gss_mech_krb5, flags, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                 &ap_rep, NULL, &empty, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        fail("gss_init_sec_context (AP-REP)", major, minor);
    gss_release_buffer(&minor, &ap_rep);
}

static int session_enctype(gss_ctx_id_t context)
{
    OM_uint32 minor;
    gss_krb5_lucid_context_v1_t *lucid = NULL;
    int enctype = -1;
    if (gss_krb5_export_lucid_sec_context(&minor, &context, 1, (void **)&lucid) ==
        GSS_S_COMPLETE) {
        enctype = lucid->protocol ? (int)lucid->cfx_kd.ctx_key.type : (int)lucid->rfc1964_kd.ctx_key.type;
        gss_krb5_free_lucid_sec_context(&minor, lucid);
    }
    return enctype;
}

int main(int argc, char **argv)
{
    OM_uint32 major, minor;
    long long *samples;
    long n, i;
    gss_name_t target;
    gss_ctx_id_t initiator, acceptor;
    int enctype;
    if (argc < 4 || (strcmp(argv[1], "AP") && strcmp(argv[1], "WRAP")) ||
        (n = atol(argv[2])) <= 0 || (!strcmp(argv[1], "WRAP") && argc < 5)) {
        fprintf(stdout, "ERROR usage: gss_bench AP N TARGET | gss_bench WRAP N TARGET LEN\n");
        return 1;
    }
    samples = calloc((size_t)n, sizeof *samples);
    memory_ccache();
    target = target_name(argv[3]);
    /* A first exchange puts the service ticket into the cache: the timed
     * ones are the AP exchange only, as the bench's cached_tickets_ap_only. */
    exchange(target, &initiator, &acceptor);
    gss_delete_sec_context(&minor, &acceptor, GSS_C_NO_BUFFER);
    if (!strcmp(argv[1], "AP")) {
        gss_delete_sec_context(&minor, &initiator, GSS_C_NO_BUFFER);
        for (i = 0; i < n; i++) {
            long long start = now_ns();
            exchange(target, &initiator, &acceptor);
            gss_delete_sec_context(&minor, &initiator, GSS_C_NO_BUFFER);
            gss_delete_sec_context(&minor, &acceptor, GSS_C_NO_BUFFER);
            samples[i] = now_ns() - start;
        }
        exchange(target, &initiator, &acceptor);
    } else {
        size_t len = (size_t)atol(argv[4]);
        char *message = malloc(len);
        memset(message, 'x', len);
        exchange(target, &initiator, &acceptor);
        for (i = 0; i < n; i++) {
            gss_buffer_desc in = {len, message}, wrapped, plain;
            int sealed = 0;
            long long start = now_ns();
            major = gss_wrap(&minor, initiator, 1, GSS_C_QOP_DEFAULT, &in, &sealed, &wrapped);
            if (major != GSS_S_COMPLETE || !sealed)
                fail("gss_wrap", major, minor);
            major = gss_unwrap(&minor, acceptor, &wrapped, &plain, NULL, NULL);
            if (major != GSS_S_COMPLETE || plain.length != len)
                fail("gss_unwrap", major, minor);
            samples[i] = now_ns() - start;
            gss_release_buffer(&minor, &wrapped);
            gss_release_buffer(&minor, &plain);
        }
        free(message);
        gss_delete_sec_context(&minor, &acceptor, GSS_C_NO_BUFFER);
    }
    enctype = session_enctype(initiator);
    qsort(samples, (size_t)n, sizeof *samples, compare);
    printf("ENCTYPE %d\nMEDIAN_NS %lld\n", enctype, samples[n / 2]);
    free(samples);
    gss_release_name(&minor, &target);
    return 0;
}
