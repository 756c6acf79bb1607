/* Representations: body, strong ETags, and a gzip variant made on first
 * use (exactly sized, so a cached one costs what it weighs). */
#include "roster_snapshot.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
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
    return out;
}

/* What gz holds when gzip would not be smaller than the body. */
static struct roster_gz not_smaller;

int roster_rep_gzip(const struct roster_rep *cr, const struct roster_gz **out)
{
    struct roster_rep *r = (struct roster_rep *)(uintptr_t)cr; /* gz is filled once, atomically */
    struct roster_gz *z = atomic_load_explicit(&r->gz, memory_order_acquire);
    if (!z) {
        struct roster_gz *mine = &not_smaller;
        size_t n = 0;
        char *packed = r->len >= 256 ? gzip(r->body, r->len, &n) : NULL;
        if (r->len >= 256 && !packed)
            return ROSTER_ENOMEM;
        if (packed && n < r->len) {
            mine = roster_malloc(sizeof(*mine) + n);
            if (!mine) {
                roster_free(packed);
                return ROSTER_ENOMEM;
            }
            mine->len = n;
            memcpy(mine->data, packed, n);
        }
        roster_free(packed);
        z = NULL;
        if (atomic_compare_exchange_strong(&r->gz, &z, mine)) {
            z = mine;
        } else if (mine != &not_smaller) {
            roster_free(mine); /* another request compressed it first */
        }
    }
    *out = z == &not_smaller ? NULL : z;
    return 0;
}

int roster_rep_json_text(const struct roster_rep *cr, const struct roster_gz **out)
{
    struct roster_rep *r = (struct roster_rep *)(uintptr_t)cr; /* filled once, atomically */
    struct roster_gz *z = atomic_load_explicit(&r->jtext, memory_order_acquire);
    if (!z) {
        json_t *j = json_stringn(r->body, r->len);
        char *d = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        size_t n = d ? strlen(d) : 0;
        struct roster_gz *mine = d ? roster_malloc(sizeof(*mine) + n) : NULL;
        json_decref(j);
        if (!mine) {
            roster_free(d);
            return ROSTER_ENOMEM;
        }
        mine->len = n;
        memcpy(mine->data, d, n);
        roster_free(d);
        if (atomic_compare_exchange_strong(&r->jtext, &z, mine))
            z = mine;
        else
            roster_free(mine); /* another request made it first */
    }
    *out = z;
    return 0;
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
    return 0;
}

void roster_rep_release(struct roster_rep *r)
{
    struct roster_gz *z = atomic_load(&r->gz);
    roster_free(r->body);
    roster_free(atomic_load(&r->jtext));
    if (z != &not_smaller)
        roster_free(z);
    memset(r, 0, sizeof(*r));
}
