/*
 * What the sample client and server share: the function table, UTF-8 <->
 * UTF-16 for the W functions, and the frames of the `sspi server` /
 * `sspi client` wire protocol (connection/src/frame.rs):
 *
 *   frame    = length u32 BE (kind + body) | kind u8 | body
 *   Hello    (1) version 1 | protection (1 sealed, 2 signed) | package name
 *   Token    (2) a security token
 *   Error    (3) status u32 BE | short reason
 *   Accepted (4) the client's name as the server authenticated it
 *   Message  (5) trailer length u16 BE | trailer | data
 *
 * Every read waits at most until a deadline (poll), so a silent peer costs
 * the handshake time-out, never a hang.
 */
#ifndef SSPI_SAMPLE_COMMON_H
#define SSPI_SAMPLE_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <sspi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { FRAME_HELLO = 1, FRAME_TOKEN = 2, FRAME_ERROR = 3, FRAME_ACCEPTED = 4, FRAME_MESSAGE = 5 };
enum { PROTECTION_SEALED = 1, PROTECTION_SIGNED = 2 };
#define MAX_FRAME (1024 * 1024 + 1)

static PSecurityFunctionTableW sspi;

static void load_table(void) {
    sspi = InitSecurityInterfaceW();
    if (sspi == NULL || sspi->dwVersion != SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2) {
        fprintf(stderr, "InitSecurityInterfaceW returned no usable table\n");
        exit(1);
    }
}

/* ---- strings ---- */

/* NUL-terminated UTF-16 from UTF-8 (caller frees); NULL for NULL. */
static SEC_WCHAR *to_wide(const char *text) {
    if (text == NULL) return NULL;
    size_t n = strlen(text);
    SEC_WCHAR *out = calloc(n * 2 + 1, sizeof(SEC_WCHAR));
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        uint32_t c;
        int extra;
        if (*s < 0x80) { c = *s; extra = 0; }
        else if ((*s & 0xE0) == 0xC0) { c = *s & 0x1F; extra = 1; }
        else if ((*s & 0xF0) == 0xE0) { c = *s & 0x0F; extra = 2; }
        else { c = *s & 0x07; extra = 3; }
        s++;
        for (int i = 0; i < extra && (*s & 0xC0) == 0x80; i++, s++) c = (c << 6) | (*s & 0x3F);
        if (c >= 0x10000) {
            c -= 0x10000;
            out[o++] = (SEC_WCHAR)(0xD800 + (c >> 10));
            out[o++] = (SEC_WCHAR)(0xDC00 + (c & 0x3FF));
        } else {
            out[o++] = (SEC_WCHAR)c;
        }
    }
    return out;
}

static size_t wide_len(const SEC_WCHAR *w) {
    size_t n = 0;
    while (w[n]) n++;
    return n;
}

/* UTF-8 from NUL-terminated UTF-16 (caller frees). */
static char *to_utf8(const SEC_WCHAR *w) {
    size_t n = wide_len(w);
    char *out = calloc(n * 3 + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = w[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && w[i + 1] >= 0xDC00 && w[i + 1] < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (w[i + 1] - 0xDC00);
            i++;
        }
        if (c < 0x80) out[o++] = (char)c;
        else if (c < 0x800) { out[o++] = (char)(0xC0 | (c >> 6)); out[o++] = (char)(0x80 | (c & 0x3F)); }
        else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12)); out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18)); out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F)); out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return out;
}

/* ---- time ---- */

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- frames ---- */

/* Why the last read failed: 0 closed cleanly, -1 error, -2 timed out. */
static int io_failure;

/* Reads exactly `len` bytes before `deadline` (ms, monotonic). */
static int read_full(int fd, unsigned char *buf, size_t len, long long deadline) {
    size_t got = 0;
    while (got < len) {
        long long left = deadline - now_ms();
        if (left <= 0) { io_failure = -2; return -1; }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready = poll(&p, 1, (int)left);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) { io_failure = ready == 0 ? -2 : -1; return -1; }
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n == 0) { io_failure = 0; return -1; }
        if (n < 0) { if (errno == EINTR) continue; io_failure = -1; return -1; }
        got += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const unsigned char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends one frame whose body is `a` then `b` (either may be empty). */
static int send_frame(int fd, int kind, const void *a, size_t a_len, const void *b, size_t b_len) {
    size_t len = 1 + a_len + b_len;
    unsigned char *frame = malloc(4 + len);
    frame[0] = (unsigned char)(len >> 24); frame[1] = (unsigned char)(len >> 16);
    frame[2] = (unsigned char)(len >> 8); frame[3] = (unsigned char)len;
    frame[4] = (unsigned char)kind;
    if (a_len) memcpy(frame + 5, a, a_len);
    if (b_len) memcpy(frame + 5 + a_len, b, b_len);
    int rc = write_full(fd, frame, 4 + len);
    free(frame);
    return rc;
}

static void send_error(int fd, SECURITY_STATUS status, const char *reason) {
    unsigned char code[4];
    uint32_t s = (uint32_t)status;
    code[0] = (unsigned char)(s >> 24); code[1] = (unsigned char)(s >> 16);
    code[2] = (unsigned char)(s >> 8); code[3] = (unsigned char)s;
    send_frame(fd, FRAME_ERROR, code, 4, reason, strlen(reason) > 200 ? 200 : strlen(reason));
}

/* Reads one frame before `deadline`: its kind, its body in *body (caller frees). */
static int read_frame(int fd, unsigned char **body, size_t *len, long long deadline) {
    unsigned char header[5];
    if (read_full(fd, header, 4, deadline) < 0) return -1;
    size_t n = ((size_t)header[0] << 24) | ((size_t)header[1] << 16) | ((size_t)header[2] << 8) | header[3];
    if (n == 0 || n > MAX_FRAME) { io_failure = -1; return -1; }
    if (read_full(fd, header + 4, 1, deadline) < 0) return -1;
    *len = n - 1;
    *body = malloc(n);
    if (*len && read_full(fd, *body, *len, deadline) < 0) { free(*body); *body = NULL; return -1; }
    return header[4];
}

static const char *io_reason(void) {
    return io_failure == -2 ? "timed out" : io_failure == 0 ? "connection closed" : "connection failed";
}

/* ---- messages ---- */

/* Protects `data` and sends it as a Message frame. */
static SECURITY_STATUS send_message(int fd, CtxtHandle *ctx, int protection, const SecPkgContext_Sizes *sizes,
                                    const unsigned char *data, size_t len) {
    ULONG room = sizes->cbSecurityTrailer > sizes->cbMaxSignature ? sizes->cbSecurityTrailer : sizes->cbMaxSignature;
    unsigned char *trailer = malloc(room ? room : 1);
    unsigned char *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    SecBuffer buffers[2];
    SecBufferDesc desc = { SECBUFFER_VERSION, 2, buffers };
    SECURITY_STATUS status;
    ULONG trailer_len;
    if (protection == PROTECTION_SEALED) {
        buffers[0] = (SecBuffer){ room, SECBUFFER_TOKEN, trailer };
        buffers[1] = (SecBuffer){ (ULONG)len, SECBUFFER_DATA, copy };
        status = sspi->EncryptMessage(ctx, 0, &desc, 0);
        trailer_len = buffers[0].cbBuffer;
    } else {
        buffers[0] = (SecBuffer){ (ULONG)len, SECBUFFER_DATA, copy };
        buffers[1] = (SecBuffer){ room, SECBUFFER_TOKEN, trailer };
        status = sspi->MakeSignature(ctx, 0, &desc, 0);
        trailer_len = buffers[1].cbBuffer;
    }
    if (status == SEC_E_OK) {
        size_t body_len = 2 + trailer_len + len;
        unsigned char *body = malloc(body_len);
        body[0] = (unsigned char)(trailer_len >> 8);
        body[1] = (unsigned char)trailer_len;
        memcpy(body + 2, trailer, trailer_len);
        memcpy(body + 2 + trailer_len, copy, len);
        if (send_frame(fd, FRAME_MESSAGE, body, body_len, NULL, 0) < 0) status = SEC_E_INTERNAL_ERROR;
        free(body);
    }
    free(trailer);
    free(copy);
    return status;
}

/* Opens a Message frame's body in place: *data and *len get the plaintext. */
static SECURITY_STATUS open_message(CtxtHandle *ctx, int protection, unsigned char *body, size_t body_len,
                                    unsigned char **data, size_t *len) {
    if (body_len < 2) return SEC_E_INVALID_TOKEN;
    size_t trailer_len = ((size_t)body[0] << 8) | body[1];
    if (trailer_len > body_len - 2) return SEC_E_INVALID_TOKEN;
    unsigned char *trailer = body + 2;
    *data = trailer + trailer_len;
    *len = body_len - 2 - trailer_len;
    SecBuffer buffers[2];
    SecBufferDesc desc = { SECBUFFER_VERSION, 2, buffers };
    ULONG qop = 0;
    if (protection == PROTECTION_SEALED) {
        buffers[0] = (SecBuffer){ (ULONG)trailer_len, SECBUFFER_TOKEN, trailer };
        buffers[1] = (SecBuffer){ (ULONG)*len, SECBUFFER_DATA, *data };
        return sspi->DecryptMessage(ctx, &desc, 0, &qop);
    }
    buffers[0] = (SecBuffer){ (ULONG)*len, SECBUFFER_DATA, *data };
    buffers[1] = (SecBuffer){ (ULONG)trailer_len, SECBUFFER_TOKEN, trailer };
    return sspi->VerifySignature(ctx, &desc, 0, &qop);
}

#endif
