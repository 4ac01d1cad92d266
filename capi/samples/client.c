/*
 * The sample SSPI client in C: authenticates to `sspi server` (or the
 * sample server) over TCP through the table InitSecurityInterfaceW returns,
 * then sends each message sealed (EncryptMessage) or signed (MakeSignature)
 * and checks the echo.
 *
 *   client -p PACKAGE [-c HOST:PORT] [-t TARGET] [-u USER -d DOMAIN] [-l PACKAGELIST]
 *          [-s] [-a] [-T SECONDS] MESSAGE...
 *
 * -u/-d: explicit credentials (SEC_WINNT_AUTH_IDENTITY_W; the password from
 * SSPI_PASSWORD); -l: Negotiate's PackageList (SEC_WINNT_AUTH_IDENTITY_EXW);
 * -s: sign instead of seal; -a: ISC_REQ_ALLOCATE_MEMORY; -T: the handshake
 * time-out (default 10 s). Exit status as `sspi client`: 0 ok, 2
 * authentication failed, 3 connection failed or timed out.
 */
#include "common.h"

#include <netdb.h>

static int connect_to(const char *address) {
    char host[256];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof host) return -1;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = 0;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *found;
    if (getaddrinfo(host, colon + 1, &hints, &found) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = found; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

int main(int argc, char **argv) {
    const char *address = "127.0.0.1:4550", *package = NULL, *target = NULL, *user = NULL;
    const char *domain = "", *package_list = NULL;
    int protection = PROTECTION_SEALED, allocate = 0, timeout_s = 10, opt;
    while ((opt = getopt(argc, argv, "c:p:t:u:d:l:saT:")) != -1) {
        switch (opt) {
        case 'c': address = optarg; break;
        case 'p': package = optarg; break;
        case 't': target = optarg; break;
        case 'u': user = optarg; break;
        case 'd': domain = optarg; break;
        case 'l': package_list = optarg; break;
        case 's': protection = PROTECTION_SIGNED; break;
        case 'a': allocate = 1; break;
        case 'T': timeout_s = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s -p PACKAGE [-c HOST:PORT] [-t TARGET] [-u USER -d DOMAIN] "
                            "[-l PACKAGELIST] [-s] [-a] [-T SECONDS] MESSAGE...\n", argv[0]);
            return 64;
        }
    }
    if (package == NULL) { fprintf(stderr, "-p PACKAGE is required\n"); return 64; }
    load_table();

    /* Credentials: the package's default identity, or the one given. */
    SEC_WINNT_AUTH_IDENTITY_EXW identity;
    memset(&identity, 0, sizeof identity);
    void *auth = NULL;
    SEC_WCHAR *w_user = NULL, *w_domain = NULL, *w_password = NULL, *w_list = NULL;
    if (user != NULL || package_list != NULL) {
        const char *password = getenv("SSPI_PASSWORD");
        identity.Version = SEC_WINNT_AUTH_IDENTITY_VERSION;
        identity.Length = sizeof identity;
        identity.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
        if (user != NULL) {
            w_user = to_wide(user);
            w_domain = to_wide(domain);
            w_password = to_wide(password ? password : "");
            identity.User = w_user; identity.UserLength = (ULONG)wide_len(w_user);
            identity.Domain = w_domain; identity.DomainLength = (ULONG)wide_len(w_domain);
            identity.Password = w_password; identity.PasswordLength = (ULONG)wide_len(w_password);
        }
        if (package_list != NULL) {
            w_list = to_wide(package_list);
            identity.PackageList = w_list;
            identity.PackageListLength = (ULONG)wide_len(w_list);
        }
        auth = &identity;
    }
    SEC_WCHAR *w_package = to_wide(package);
    CredHandle cred;
    TimeStamp expiry;
    SECURITY_STATUS status = sspi->AcquireCredentialsHandleW(NULL, w_package, SECPKG_CRED_OUTBOUND, NULL, auth,
                                                             NULL, NULL, &cred, &expiry);
    if (w_password) memset(w_password, 0, wide_len(w_password) * 2);
    if (status != SEC_E_OK) {
        fprintf(stderr, "AcquireCredentialsHandleW(%s) failed: 0x%08x\n", package, (unsigned)status);
        return 2;
    }
    PSecPkgInfoW info;
    status = sspi->QuerySecurityPackageInfoW(w_package, &info);
    if (status != SEC_E_OK) { fprintf(stderr, "QuerySecurityPackageInfoW: 0x%08x\n", (unsigned)status); return 2; }
    ULONG max_token = info->cbMaxToken;
    sspi->FreeContextBuffer(info);

    int fd = connect_to(address);
    if (fd < 0) { fprintf(stderr, "cannot connect to %s\n", address); return 3; }
    printf("connected to %s with %s\n", address, package);
    long long deadline = now_ms() + (long long)timeout_s * 1000;

    unsigned char hello[2] = { 1, (unsigned char)protection };
    if (send_frame(fd, FRAME_HELLO, hello, 2, package, strlen(package)) < 0) {
        fprintf(stderr, "cannot send the hello\n");
        return 3;
    }

    ULONG req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONFIDENTIALITY |
                ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION | (allocate ? ISC_REQ_ALLOCATE_MEMORY : 0);
    SEC_WCHAR *w_target = to_wide(target);
    CtxtHandle ctx;
    int have_ctx = 0;
    unsigned char *out_mem = allocate ? NULL : malloc(max_token);
    unsigned char *input = NULL;
    size_t input_len = 0;
    ULONG attributes = 0;
    for (;;) {
        SecBuffer in_buf = { (ULONG)input_len, SECBUFFER_TOKEN, input };
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, &in_buf };
        SecBuffer out_buf = { allocate ? 0 : max_token, SECBUFFER_TOKEN, out_mem };
        SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
        status = sspi->InitializeSecurityContextW(&cred, have_ctx ? &ctx : NULL, w_target, req, 0,
                                                  SECURITY_NATIVE_DREP, have_ctx ? &in_desc : NULL, 0, &ctx,
                                                  &out_desc, &attributes, &expiry);
        free(input);
        input = NULL;
        if (!SEC_SUCCESS(status)) {
            fprintf(stderr, "InitializeSecurityContextW failed: 0x%08x\n", (unsigned)status);
            send_error(fd, status, "the client's security package failed");
            return 2;
        }
        have_ctx = 1;
        if (allocate && out_buf.cbBuffer > 0 && !(attributes & ISC_RET_ALLOCATED_MEMORY)) {
            fprintf(stderr, "ISC_REQ_ALLOCATE_MEMORY without ISC_RET_ALLOCATED_MEMORY\n");
            return 2;
        }
        if (status == SEC_I_COMPLETE_NEEDED || status == SEC_I_COMPLETE_AND_CONTINUE) {
            SECURITY_STATUS completed = sspi->CompleteAuthToken(&ctx, &out_desc);
            if (completed != SEC_E_OK) { fprintf(stderr, "CompleteAuthToken: 0x%08x\n", (unsigned)completed); return 2; }
        }
        if (out_buf.cbBuffer > 0 && send_frame(fd, FRAME_TOKEN, out_buf.pvBuffer, out_buf.cbBuffer, NULL, 0) < 0) {
            fprintf(stderr, "cannot send a token\n");
            return 3;
        }
        if (allocate) sspi->FreeContextBuffer(out_buf.pvBuffer);
        if (status != SEC_I_CONTINUE_NEEDED && status != SEC_I_COMPLETE_AND_CONTINUE) break;
        int kind = read_frame(fd, &input, &input_len, deadline);
        if (kind == FRAME_ERROR && input_len >= 4) {
            fprintf(stderr, "refused by the server: 0x%02x%02x%02x%02x %.*s\n", input[0], input[1], input[2],
                    input[3], (int)input_len - 4, (char *)input + 4);
            return 2;
        }
        if (kind != FRAME_TOKEN) {
            fprintf(stderr, "handshake: %s\n", kind < 0 ? io_reason() : "expected a token");
            return 3;
        }
    }
    unsigned char *verdict;
    size_t verdict_len;
    int kind = read_frame(fd, &verdict, &verdict_len, deadline);
    if (kind == FRAME_ERROR && verdict_len >= 4) {
        fprintf(stderr, "refused by the server: 0x%02x%02x%02x%02x %.*s\n", verdict[0], verdict[1], verdict[2],
                verdict[3], (int)verdict_len - 4, (char *)verdict + 4);
        return 2;
    }
    if (kind != FRAME_ACCEPTED) {
        fprintf(stderr, "handshake: %s\n", kind < 0 ? io_reason() : "expected the verdict");
        return 3;
    }
    printf("authenticated: the server accepted this client as %.*s\n", (int)verdict_len, (char *)verdict);
    free(verdict);

    SecPkgContext_NamesW names;
    if (sspi->QueryContextAttributesW(&ctx, SECPKG_ATTR_NAMES, &names) == SEC_E_OK) {
        char *me = to_utf8(names.sUserName);
        printf("client name: %s\n", me);
        free(me);
        sspi->FreeContextBuffer(names.sUserName);
    }
    SecPkgContext_Sizes sizes;
    status = sspi->QueryContextAttributesW(&ctx, SECPKG_ATTR_SIZES, &sizes);
    if (status != SEC_E_OK) { fprintf(stderr, "QueryContextAttributesW(SIZES): 0x%08x\n", (unsigned)status); return 2; }
    SecPkgContext_NegotiationInfoW negotiated;
    if (sspi->QueryContextAttributesW(&ctx, SECPKG_ATTR_NEGOTIATION_INFO, &negotiated) == SEC_E_OK) {
        char *chosen = to_utf8(negotiated.PackageInfo->Name);
        printf("negotiated: %s (state %u)\n", chosen, (unsigned)negotiated.NegotiationState);
        free(chosen);
        sspi->FreeContextBuffer(negotiated.PackageInfo);
    }
    printf("flags: 0x%08x\n", (unsigned)attributes);
    printf("sizes: max token %u, max signature %u, block size %u, security trailer %u\n", (unsigned)sizes.cbMaxToken,
           (unsigned)sizes.cbMaxSignature, (unsigned)sizes.cbBlockSize, (unsigned)sizes.cbSecurityTrailer);
    printf("messages are %s\n", protection == PROTECTION_SEALED ? "sealed" : "signed");
    fflush(stdout);

    for (int i = optind; i < argc; i++) {
        status = send_message(fd, &ctx, protection, &sizes, (const unsigned char *)argv[i], strlen(argv[i]));
        if (status != SEC_E_OK) { fprintf(stderr, "protecting a message: 0x%08x\n", (unsigned)status); return 2; }
        unsigned char *body;
        size_t body_len;
        kind = read_frame(fd, &body, &body_len, now_ms() + (long long)timeout_s * 1000);
        if (kind != FRAME_MESSAGE) {
            fprintf(stderr, "reply: %s\n", kind < 0 ? io_reason() : "not a message");
            return kind == FRAME_ERROR ? 2 : 3;
        }
        unsigned char *plain;
        size_t plain_len;
        status = open_message(&ctx, protection, body, body_len, &plain, &plain_len);
        if (status != SEC_E_OK) { fprintf(stderr, "opening the reply: 0x%08x\n", (unsigned)status); return 2; }
        printf("reply: %.*s\n", (int)plain_len, (char *)plain);
        if (plain_len != strlen(argv[i]) || memcmp(plain, argv[i], plain_len) != 0) {
            fprintf(stderr, "the reply differs from the message\n");
            return 2;
        }
        free(body);
    }
    fflush(stdout);
    close(fd);
    sspi->DeleteSecurityContext(&ctx);
    sspi->FreeCredentialsHandle(&cred);
    free(w_package); free(w_target); free(w_user); free(w_domain); free(w_password); free(w_list); free(out_mem);
    return 0;
}
