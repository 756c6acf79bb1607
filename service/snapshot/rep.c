/* Prebuilt representations: body, gzip variant, strong ETags. */
#include "roster_snapshot.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "roster_base.h"
#include "roster_text.h"

/* gzip of data (best compression); NULL on failure. */
static char *gzip(const char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* 15 window bits + 16: gzip wrapper */
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&z, (uLong)len) + 32;
    char *out = roster_malloc(bound);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)bound;
    int r = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        roster_free(out);
        return NULL;
    }
    *out_len = n;
    /* the buffer was sized for the worst case: keep only what is used, it
     * lives as long as the cached representation */
    char *fit = roster_realloc(out, n ? n : 1);
    return fit ? fit : out;
}

int roster_rep_init(struct roster_rep *r, char *body, size_t len, const char *ctype,
                    const char *tag)
{
    char hex[65];
    memset(r, 0, sizeof(*r));
    if (!body)
        return ROSTER_ENOMEM;
    r->body = body;
    r->len = len;
    r->ctype = ctype;
    if (!tag) {
        roster_sha256_hex(body, len, hex);
        tag = hex;
    }
    snprintf(r->etag, sizeof(r->etag), "\"%.32s\"", tag);
    snprintf(r->etag_gz, sizeof(r->etag_gz), "\"%.32s-gz\"", tag);
    if (len >= 256) {
        size_t gz_len = 0;
        char *gz = gzip(body, len, &gz_len);
        if (!gz)
            return ROSTER_ENOMEM;
        if (gz_len < len) {
            r->gz = gz;
            r->gz_len = gz_len;
        } else {
            roster_free(gz);
        }
    }
    return 0;
}

void roster_rep_release(struct roster_rep *r)
{
    roster_free(r->body);
    roster_free(r->gz);
    memset(r, 0, sizeof(*r));
}
