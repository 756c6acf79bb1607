/* Request routing and query parsing, and the Accept, Accept-Encoding and
 * If-None-Match parsers. The input's first line is a request target; the
 * next three are header values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roster_httpparse.h"
#include "roster_query.h"
#include "roster_render.h"

static char *line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

/* libFuzzer declares no prototype; this one is for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *target = line(&p, end), *accept = line(&p, end), *enc = line(&p, end),
         *inm = line(&p, end);
    struct roster_target t;
    roster_target_parse(target, strlen(target), &t);
    if (t.query) {
        struct roster_param params[ROSTER_QUERY_MAX_PARAMS];
        size_t n = 0; /* the parser leaves n alone when it fails */
        char buf[8192], why[200];
        if (roster_query_string_parse(t.query, t.query_len, params, &n, buf, sizeof(buf), why,
                                      sizeof(why)) < 0)
            n = 0;
        char id[512];
        for (size_t i = 0; i < n && strcmp(params[i].key, "cursor") == 0; i++)
            roster_cursor_decode(params[i].value, id, sizeof(id));
    }
    if (t.route == ROSTER_ROUTE_VIEW) {
        enum roster_view v;
        roster_view_parse(t.view, t.view_len, &v);
    }
    roster_accept_quality(accept, "application/json");
    roster_accept_quality(accept, "text/markdown");
    roster_accepts_gzip(enc);
    roster_etag_match(inm, "\"0123456789abcdef0123456789abcdef-1\"");
    free(target);
    free(accept);
    free(enc);
    free(inm);
    return 0;
}
