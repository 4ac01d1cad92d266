/*
 * The sample SSPI server in C: the `sspi server` wire protocol's encrypted
 * echo service, through the table InitSecurityInterfaceW returns. It
 * serves connections one after another, for whichever package the
 * client's hello names (credentials acquired INBOUND on first use).
 *
 *   server [-l HOST:PORT] [-n CONNECTIONS] [-T SECONDS] [-a]
 *
 * Prints "listening on ADDRESS" once it listens (port 0 picks one), and one
 * line per connection. -T: the handshake time-out (default 10 s): a client
 * that has not authenticated by then is told (SEC_E_CONTEXT_EXPIRED) and
 * dropped. -a: ASC_REQ_ALLOCATE_MEMORY. Exits after CONNECTIONS (default:
 * never).
 */
#include "common.h"

enum { MAX_PACKAGES = 8 };
static struct { char name[64]; CredHandle cred; ULONG max_token; } packages[MAX_PACKAGES];
static int package_count;

static int credentials_for(const char *name, CredHandle **cred, ULONG *max_token) {
    for (int i = 0; i < package_count; i++) {
        if (strcmp(packages[i].name, name) == 0) {
            *cred = &packages[i].cred;
            *max_token = packages[i].max_token;
            return 0;
        }
    }
    if (package_count == MAX_PACKAGES || strlen(name) >= sizeof packages[0].name) return -1;
    SEC_WCHAR *w_name = to_wide(name);
    TimeStamp expiry;
    PSecPkgInfoW info;
    SECURITY_STATUS status = sspi->QuerySecurityPackageInfoW(w_name, &info);
    if (status == SEC_E_OK) {
        packages[package_count].max_token = info->cbMaxToken;
        sspi->FreeContextBuffer(info);
        status = sspi->AcquireCredentialsHandleW(NULL, w_name, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                                 &packages[package_count].cred, &expiry);
    }
    free(w_name);
    if (status != SEC_E_OK) return (int)status;
    strcpy(packages[package_count].name, name);
    *cred = &packages[package_count].cred;
    *max_token = packages[package_count].max_token;
    package_count++;
    return 0;
}

/* One connection: handshake before the deadline, then the echo service. */
static void serve(int fd, int timeout_s, int allocate) {
    long long deadline = now_ms() + (long long)timeout_s * 1000;
    unsigned char *body = NULL;
    size_t len = 0;
    int kind = read_frame(fd, &body, &len, deadline);
    if (kind != FRAME_HELLO || len < 2 || body[0] != 1 || (body[1] != PROTECTION_SEALED && body[1] != PROTECTION_SIGNED)) {
        if (kind < 0 && io_failure == -2) send_error(fd, SEC_E_CONTEXT_EXPIRED, "timed out waiting for the hello");
        else if (kind >= 0) send_error(fd, SEC_E_INVALID_TOKEN, "expected a hello");
        printf("dropped: no hello (%s)\n", kind < 0 ? io_reason() : "bad frame");
        free(body);
        return;
    }
    int protection = body[1];
    char package[64];
    size_t name_len = len - 2 < sizeof package - 1 ? len - 2 : sizeof package - 1;
    memcpy(package, body + 2, name_len);
    package[name_len] = 0;
    free(body);
    CredHandle *cred;
    ULONG max_token;
    int found = credentials_for(package, &cred, &max_token);
    if (found != 0) {
        send_error(fd, SEC_E_SECPKG_NOT_FOUND, "package not offered here");
        printf("dropped: package %s: 0x%08x\n", package, (unsigned)found);
        return;
    }
    ULONG req = ASC_REQ_MUTUAL_AUTH | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONFIDENTIALITY |
                ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION | (allocate ? ASC_REQ_ALLOCATE_MEMORY : 0);
    CtxtHandle ctx;
    int have_ctx = 0;
    unsigned char *out_mem = allocate ? NULL : malloc(max_token);
    SECURITY_STATUS status;
    ULONG attributes = 0;
    TimeStamp expiry;
    do {
        kind = read_frame(fd, &body, &len, deadline);
        if (kind != FRAME_TOKEN) {
            if (kind < 0 && io_failure == -2) send_error(fd, SEC_E_CONTEXT_EXPIRED, "timed out authenticating");
            printf("dropped: handshake: %s\n", kind < 0 ? io_reason() : "expected a token");
            free(body);
            goto done;
        }
        SecBuffer in_buf = { (ULONG)len, SECBUFFER_TOKEN, body };
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, &in_buf };
        SecBuffer out_buf = { allocate ? 0 : max_token, SECBUFFER_TOKEN, out_mem };
        SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
        status = sspi->AcceptSecurityContext(cred, have_ctx ? &ctx : NULL, &in_desc, req, SECURITY_NATIVE_DREP, &ctx,
                                             &out_desc, &attributes, &expiry);
        free(body);
        if (!SEC_SUCCESS(status)) {
            send_error(fd, status, "refused by the server's security package");
            printf("dropped: AcceptSecurityContext: 0x%08x\n", (unsigned)status);
            goto done;
        }
        have_ctx = 1;
        if (status == SEC_I_COMPLETE_NEEDED || status == SEC_I_COMPLETE_AND_CONTINUE) {
            SECURITY_STATUS completed = sspi->CompleteAuthToken(&ctx, &out_desc);
            if (completed != SEC_E_OK) { printf("dropped: CompleteAuthToken: 0x%08x\n", (unsigned)completed); goto done; }
        }
        if (out_buf.cbBuffer > 0) send_frame(fd, FRAME_TOKEN, out_buf.pvBuffer, out_buf.cbBuffer, NULL, 0);
        if (allocate) sspi->FreeContextBuffer(out_buf.pvBuffer);
    } while (status == SEC_I_CONTINUE_NEEDED || status == SEC_I_COMPLETE_AND_CONTINUE);

    SecPkgContext_NamesW names;
    status = sspi->QueryContextAttributesW(&ctx, SECPKG_ATTR_NAMES, &names);
    if (status != SEC_E_OK) { printf("dropped: QueryContextAttributesW(NAMES): 0x%08x\n", (unsigned)status); goto done; }
    char *client = to_utf8(names.sUserName);
    sspi->FreeContextBuffer(names.sUserName);
    send_frame(fd, FRAME_ACCEPTED, client, strlen(client), NULL, 0);
    SecPkgContext_Sizes sizes;
    sspi->QueryContextAttributesW(&ctx, SECPKG_ATTR_SIZES, &sizes);
    printf("accepted %s with %s, flags 0x%08x, messages %s\n", client, package, (unsigned)attributes,
           protection == PROTECTION_SEALED ? "sealed" : "signed");
    fflush(stdout);
    free(client);
    int messages = 0;
    for (;;) {
        kind = read_frame(fd, &body, &len, now_ms() + 60000);
        if (kind < 0) break;
        if (kind != FRAME_MESSAGE) { free(body); break; }
        unsigned char *plain;
        size_t plain_len;
        status = open_message(&ctx, protection, body, len, &plain, &plain_len);
        if (status != SEC_E_OK) {
            send_error(fd, status, "the message failed its check");
            printf("dropped: a message failed its check: 0x%08x\n", (unsigned)status);
            free(body);
            break;
        }
        status = send_message(fd, &ctx, protection, &sizes, plain, plain_len);
        free(body);
        if (status != SEC_E_OK) break;
        messages++;
    }
    printf("session closed, %d message(s)\n", messages);
done:
    fflush(stdout);
    if (have_ctx) sspi->DeleteSecurityContext(&ctx);
    free(out_mem);
}

int main(int argc, char **argv) {
    const char *address = "127.0.0.1:4550";
    int connections = -1, timeout_s = 10, allocate = 0, opt;
    while ((opt = getopt(argc, argv, "l:n:T:a")) != -1) {
        switch (opt) {
        case 'l': address = optarg; break;
        case 'n': connections = atoi(optarg); break;
        case 'T': timeout_s = atoi(optarg); break;
        case 'a': allocate = 1; break;
        default: fprintf(stderr, "usage: %s [-l HOST:PORT] [-n CONNECTIONS] [-T SECONDS] [-a]\n", argv[0]); return 64;
        }
    }
    load_table();
    const char *colon = strrchr(address, ':');
    if (colon == NULL) { fprintf(stderr, "expected HOST:PORT\n"); return 64; }
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - address), address);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "not an IPv4 address: %s\n", host); return 64; }
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 16) < 0) {
        perror("listen");
        return 3;
    }
    socklen_t addr_len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &addr_len);
    char shown[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, shown, sizeof shown);
    printf("listening on %s:%u\n", shown, (unsigned)ntohs(addr.sin_port));
    fflush(stdout);
    for (int served = 0; connections < 0 || served < connections; served++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) { served--; continue; } perror("accept"); return 3; }
        serve(fd, timeout_s, allocate);
        close(fd);
    }
    for (int i = 0; i < package_count; i++) sspi->FreeCredentialsHandle(&packages[i].cred);
    return 0;
}
