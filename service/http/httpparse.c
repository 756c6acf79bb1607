/* Request target, query string and header parsing. */
#include "roster_httpparse.h"

#include "roster_render.h"

#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster_base.h"
#include "roster_doc.h"
#include "roster_text.h"

#define GET_ALLOW "GET, HEAD, OPTIONS"
#define POST_ALLOW "POST, OPTIONS"
#define GET_POST_ALLOW "GET, HEAD, POST, OPTIONS"
#define MCP_ALLOW "GET, POST, DELETE, OPTIONS"

static const char *const NO_PARAMS[] = {NULL};
/* Path segments a target may have (the longest pattern has 6; the
 * versions diff route to come, #16, has 7). */
#define SEGS_MAX 7
static const char *const LIST_PARAMS[] = {"category", "role",  "extends", "q",
                                          "fields",   "limit", "cursor",  NULL};
static const char *const PROFILE_PARAMS[] = {"fields", "scope", NULL};
static const char *const VIEW_PARAMS[] = {"scope", NULL};
static const char *const DIAG_PARAMS[] = {"severity", NULL};
static const char *const VERSIONS_PARAMS[] = {"limit", "cursor", NULL};

static const struct roster_route ROUTES[] = {
    {ROSTER_ROUTE_PROFILES, "/v1/profiles", "profiles", GET_ALLOW, LIST_PARAMS,
     ROSTER_ROUTE_SNAPSHOT, 2, roster_route_profiles},
    {ROSTER_ROUTE_PROFILE, "/v1/profiles/{id}", "profile", GET_ALLOW, PROFILE_PARAMS,
     ROSTER_ROUTE_SNAPSHOT, 3, roster_route_profile},
    /* before {view}, which it shadows: GET and HEAD are the prompt view */
    {ROSTER_ROUTE_PROMPT, "/v1/profiles/{id}/prompt", "prompt", GET_POST_ALLOW, NO_PARAMS,
     ROSTER_ROUTE_SNAPSHOT | ROSTER_ROUTE_GET_POST | ROSTER_ROUTE_BODY, 4, roster_route_prompt},
    /* before {view} too ("versions" is no view) */
    {ROSTER_ROUTE_VERSIONS, "/v1/profiles/{id}/versions", "versions", GET_ALLOW, VERSIONS_PARAMS,
     ROSTER_ROUTE_SNAPSHOT, 4, roster_route_versions},
    {ROSTER_ROUTE_VERSION_PROFILE, "/v1/profiles/{id}/versions/{digest}", "version_profile",
     GET_ALLOW, NO_PARAMS, ROSTER_ROUTE_SNAPSHOT, 5, roster_route_version},
    {ROSTER_ROUTE_VERSION_PROMPT, "/v1/profiles/{id}/versions/{digest}/prompt", "version_prompt",
     GET_ALLOW, NO_PARAMS, ROSTER_ROUTE_SNAPSHOT, 6, roster_route_version},
    {ROSTER_ROUTE_VERSION_DIFF, "/v1/profiles/{id}/versions/{digest}/diff/{other}", "version_diff",
     GET_ALLOW, NO_PARAMS, ROSTER_ROUTE_SNAPSHOT, 7, roster_route_version_diff},
    {ROSTER_ROUTE_VIEW, "/v1/profiles/{id}/{view}", "view", GET_ALLOW, VIEW_PARAMS,
     ROSTER_ROUTE_SNAPSHOT, 4, roster_route_profile},
    {ROSTER_ROUTE_FACETS, "/v1/facets", "facets", GET_ALLOW, NO_PARAMS, ROSTER_ROUTE_SNAPSHOT, 2,
     roster_route_facets},
    {ROSTER_ROUTE_DIAGNOSTICS, "/v1/diagnostics", "diagnostics", GET_ALLOW, DIAG_PARAMS,
     ROSTER_ROUTE_SNAPSHOT, 2, roster_route_diagnostics},
    {ROSTER_ROUTE_EVENTS, "/v1/events", "events", GET_ALLOW, NO_PARAMS, 0, 2, roster_route_events},
    {ROSTER_ROUTE_RELOAD, "/v1/admin/reload", "reload", POST_ALLOW, NO_PARAMS, ROSTER_ROUTE_POST, 3,
     roster_route_reload},
    {ROSTER_ROUTE_OPENAPI, "/openapi.yaml", "openapi", GET_ALLOW, NO_PARAMS, 0, 1,
     roster_route_text},
    {ROSTER_ROUTE_HEALTH, "/health", "health", GET_ALLOW, NO_PARAMS, 0, 1, roster_route_json},
    {ROSTER_ROUTE_READY, "/ready", "ready", GET_ALLOW, NO_PARAMS, 0, 1, roster_route_json},
    {ROSTER_ROUTE_METRICS, "/metrics", "metrics", GET_ALLOW, NO_PARAMS, 0, 1, roster_route_text},
    {ROSTER_ROUTE_VERSION, "/version", "version", GET_ALLOW, NO_PARAMS, 0, 1, roster_route_json},
    {ROSTER_ROUTE_MCP, "/mcp", "mcp", MCP_ALLOW, NO_PARAMS,
     ROSTER_ROUTE_MCP_METHODS | ROSTER_ROUTE_BODY, 1, roster_route_mcp},
};
#define NROUTES (sizeof(ROUTES) / sizeof(ROUTES[0]))
_Static_assert(NROUTES == ROSTER_ROUTE_COUNT - 2, "every routable kind has one table entry");

const struct roster_route *roster_routes(size_t *n)
{
    *n = NROUTES;
    return ROUTES;
}

/* The table is in enum order after NOT_FOUND and BAD_ID (the unit test
 * checks every entry), so a kind indexes it directly. */
#define FIRST_ROUTABLE ROSTER_ROUTE_PROFILES

const char *const *roster_route_params(const struct roster_route *rt, int view)
{
    if (rt->kind == ROSTER_ROUTE_VIEW && !roster_scope_applies((enum roster_view)view))
        return NO_PARAMS;
    return rt->params;
}

const struct roster_route *roster_route_of(enum roster_route_kind kind)
{
    if (kind == ROSTER_ROUTE_BAD_ID)
        kind = ROSTER_ROUTE_PROFILE; /* an invalid id is still the profile route */
    if (kind < FIRST_ROUTABLE || kind >= ROSTER_ROUTE_COUNT)
        return NULL;
    return &ROUTES[kind - FIRST_ROUTABLE];
}

const char *roster_route_name(enum roster_route_kind r)
{
    const struct roster_route *rt = roster_route_of(r);
    return rt ? rt->metric : "unknown";
}

static int hexval(char c);

/* Percent-decodes one path segment into out (cap bytes, NUL-terminated);
 * -1 on a bad escape, %00 or when it does not fit. */
static int decode_segment(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (k + 1 >= cap)
            return -1;
        out[k++] = c;
    }
    out[k] = '\0';
    *len = k;
    return 0;
}

/* Matches the path's segments against one route pattern. Returns 1 on a
 * match (id and view decoded into out), 0 on none, -1 when the literal
 * segments match but the id is not a valid one (400 invalid_id). */
static int match_route(const struct roster_route *rt, const char *const *seg, const size_t *sl,
                       size_t n, struct roster_target *out)
{
    const char *p = rt->pattern + 1;
    size_t k = 0;
    int bad_id = 0;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t plen = e ? (size_t)(e - p) : strlen(p);
        if (k == n)
            return 0;
        if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
            if (decode_segment(seg[k], sl[k], out->id, sizeof(out->id), &out->id_len) < 0 ||
                !roster_id_valid(out->id, out->id_len))
                bad_id = 1;
        } else if ((plen == 8 && memcmp(p, "{digest}", 8) == 0) ||
                   (plen == 7 && memcmp(p, "{other}", 7) == 0)) {
            /* any segment: a malformed digest is the handler's 400 */
            char *d = plen == 8 ? out->digest : out->other;
            size_t *dl = plen == 8 ? &out->digest_len : &out->other_len;
            if (decode_segment(seg[k], sl[k], d, sizeof(out->digest), dl) < 0) {
                d[0] = '\0';
                *dl = 0;
            }
        } else if (plen == 6 && memcmp(p, "{view}", 6) == 0) {
            if (sl[k] == 0 ||
                decode_segment(seg[k], sl[k], out->view, sizeof(out->view), &out->view_len) < 0)
                return 0; /* no view has such a name: an unknown route */
        } else if (plen != sl[k] || memcmp(p, seg[k], plen) != 0) {
            return 0;
        }
        k++;
        p = e ? e + 1 : p + plen;
    }
    return k != n ? 0 : bad_id ? -1 : 1;
}

void roster_target_parse(const char *raw, size_t len, struct roster_target *out)
{
    memset(out, 0, sizeof(*out));
    out->route = ROSTER_ROUTE_NOT_FOUND;
    const char *q = memchr(raw, '?', len);
    size_t plen = q ? (size_t)(q - raw) : len;
    if (q) {
        out->query = q + 1;
        out->query_len = len - plen - 1;
    }
    if (plen == 0 || raw[0] != '/')
        return;
    /* Split into at most SEGS_MAX segments: no pattern has more. */
    const char *seg[SEGS_MAX];
    size_t sl[SEGS_MAX], n = 0;
    size_t i = 1;
    while (i <= plen) {
        size_t j = i;
        while (j < plen && raw[j] != '/')
            j++;
        if (n == SEGS_MAX)
            return;
        seg[n] = raw + i;
        sl[n] = j - i;
        n++;
        i = j + 1;
    }
    for (size_t r = 0; r < NROUTES; r++) {
        if (ROUTES[r].nseg != n)
            continue; /* cheap: no decoding for a pattern of another length */
        int m = match_route(&ROUTES[r], seg, sl, n, out);
        if (m == 0)
            continue;
        out->route = m > 0 ? ROUTES[r].kind : ROSTER_ROUTE_BAD_ID;
        out->entry = &ROUTES[r];
        break;
    }
    /* The id and view are the decoded segments of a match, and nothing
     * otherwise: a caller never sees a half-decoded id. */
    int versioned = out->route == ROSTER_ROUTE_VERSION_PROFILE ||
                    out->route == ROSTER_ROUTE_VERSION_PROMPT ||
                    out->route == ROSTER_ROUTE_VERSION_DIFF;
    if (out->route != ROSTER_ROUTE_PROFILE && out->route != ROSTER_ROUTE_PROMPT &&
        out->route != ROSTER_ROUTE_VIEW && out->route != ROSTER_ROUTE_VERSIONS && !versioned) {
        out->id_len = 0;
        out->id[0] = '\0';
    }
    if (out->route != ROSTER_ROUTE_VIEW) {
        out->view_len = 0;
        out->view[0] = '\0';
    }
    if (!versioned) {
        out->digest_len = 0;
        out->digest[0] = '\0';
    }
    if (out->route != ROSTER_ROUTE_VERSION_DIFF) {
        out->other_len = 0;
        out->other[0] = '\0';
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into buf at *pos; returns -1 with why on bad input. */
static int decode(const char *s, size_t n, char *buf, size_t cap, size_t *pos, char *why,
                  size_t why_cap)
{
    size_t start = *pos;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(why, why_cap, "invalid percent-escape in the query string");
                return -1;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
            if (c == '\0') {
                snprintf(why, why_cap, "%%00 is not allowed in the query string");
                return -1;
            }
        } else if (c == '+') {
            c = ' ';
        }
        if (*pos + 2 > cap) {
            snprintf(why, why_cap, "query string too long");
            return -1;
        }
        buf[(*pos)++] = c;
    }
    if (*pos + 1 > cap) {
        snprintf(why, why_cap, "query string too long");
        return -1;
    }
    buf[(*pos)++] = '\0';
    size_t len = *pos - start - 1;
    if (len > ROSTER_QUERY_MAX_VALUE) {
        snprintf(why, why_cap, "query parameter longer than %d bytes", ROSTER_QUERY_MAX_VALUE);
        return -1;
    }
    if (roster_utf8_check(buf + start, len) != len) {
        snprintf(why, why_cap, "query string is not valid UTF-8");
        return -1;
    }
    return 0;
}

int roster_query_string_parse(const char *qs, size_t len, struct roster_param *params, size_t *n,
                              char *buf, size_t cap, char *why, size_t why_cap)
{
    size_t pos = 0, count = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && qs[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(qs + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (qs + i)) : j - i;
            if (count == ROSTER_QUERY_MAX_PARAMS) {
                snprintf(why, why_cap, "more than %d query parameters", ROSTER_QUERY_MAX_PARAMS);
                return ROSTER_EINVAL;
            }
            size_t kpos = pos;
            if (decode(qs + i, klen, buf, cap, &pos, why, why_cap) < 0)
                return ROSTER_EINVAL;
            size_t vpos = pos;
            if (decode(eq ? eq + 1 : qs + j, eq ? (size_t)(qs + j - eq - 1) : 0, buf, cap, &pos,
                       why, why_cap) < 0)
                return ROSTER_EINVAL;
            params[count].key = buf + kpos;
            params[count].value = buf + vpos;
            count++;
        }
        i = j + 1;
    }
    *n = count;
    return 0;
}

const char *roster_query_repeated(const struct roster_param *p, size_t n,
                                  const char *const *repeatable)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(p[k].key, p[i].key) != 0)
                continue;
            const char *const *r = repeatable;
            while (r && *r && strcmp(*r, p[i].key) != 0)
                r++;
            if (!r || !*r)
                return p[i].key;
            break;
        }
    }
    return NULL;
}

int roster_query_integer(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    /* JSON's number grammar, with leading zeros allowed as plain decimal
     * numbers have always been here: -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p || p - s > 32)
        return -1;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end != p || v != v || v < (double)min || v > (double)max || v != (double)(unsigned long)v)
        return -1;
    *out = (unsigned long)v;
    return 0;
}

/* Walks comma-separated list elements of a header, trimming white space. */
static const char *next_elem(const char *p, const char **s, size_t *n)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    if (!*p)
        return NULL;
    const char *start = p;
    int quoted = 0;
    while (*p && (quoted || *p != ',')) {
        if (*p == '"')
            quoted = !quoted;
        p++;
    }
    *s = start;
    *n = (size_t)(p - start);
    while (*n && (start[*n - 1] == ' ' || start[*n - 1] == '\t'))
        (*n)--;
    return p;
}

/* q parameter of an element ("; q=0.5"), 1000 when absent. */
static int elem_quality(const char *s, size_t n)
{
    const char *semi = memchr(s, ';', n);
    while (semi) {
        const char *p = semi + 1;
        size_t rest = n - (size_t)(p - s);
        while (rest && (*p == ' ' || *p == '\t'))
            p++, rest--;
        if (rest >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            p += 2;
            rest -= 2;
            int q = 0, digits = 0;
            if (rest && (*p == '0' || *p == '1')) {
                q = (*p - '0') * 1000;
                p++, rest--;
                if (rest && *p == '.') {
                    p++, rest--;
                    int scale = 100;
                    while (rest && *p >= '0' && *p <= '9' && digits < 3) {
                        q += (*p - '0') * scale;
                        scale /= 10;
                        p++, rest--, digits++;
                    }
                }
                return q > 1000 ? 1000 : q;
            }
            return 0;
        }
        semi = memchr(p, ';', rest);
    }
    return 1000;
}

int roster_accept_quality(const char *header, const char *type)
{
    if (!header || !*header)
        return 1000;
    const char *slash = strchr(type, '/');
    size_t tlen = slash ? (size_t)(slash - type) : strlen(type);
    int best = -1, best_spec = -1;
    const char *s;
    size_t n;
    for (const char *p = header; (p = next_elem(p, &s, &n)) != NULL;) {
        const char *semi = memchr(s, ';', n);
        size_t mlen = semi ? (size_t)(semi - s) : n;
        while (mlen && (s[mlen - 1] == ' ' || s[mlen - 1] == '\t'))
            mlen--;
        int spec = -1;
        if (mlen == 3 && memcmp(s, "*/*", 3) == 0)
            spec = 0;
        else if (mlen == tlen + 2 && strncasecmp(s, type, tlen) == 0 && s[tlen] == '/' &&
                 s[tlen + 1] == '*')
            spec = 1;
        else if (mlen == strlen(type) && strncasecmp(s, type, mlen) == 0)
            spec = 2;
        if (spec > best_spec) {
            best_spec = spec;
            best = elem_quality(s, n);
        }
    }
    return best < 0 ? 0 : best;
}

int roster_accepts_gzip(const char *header)
{
    if (!header)
        return 0;
    const char *s;
    size_t n;
    int gzip = -1, star = -1;
    for (const char *p = header; (p = next_elem(p, &s, &n)) != NULL;) {
        const char *semi = memchr(s, ';', n);
        size_t mlen = semi ? (size_t)(semi - s) : n;
        while (mlen && (s[mlen - 1] == ' ' || s[mlen - 1] == '\t'))
            mlen--;
        if (mlen == 4 && strncasecmp(s, "gzip", 4) == 0)
            gzip = elem_quality(s, n);
        else if (mlen == 1 && s[0] == '*')
            star = elem_quality(s, n);
    }
    return gzip >= 0 ? gzip > 0 : star > 0;
}

int roster_etag_match(const char *header, const char *etag)
{
    if (!header)
        return 0;
    const char *s;
    size_t n;
    size_t elen = strlen(etag);
    for (const char *p = header; (p = next_elem(p, &s, &n)) != NULL;) {
        if (n == 1 && s[0] == '*')
            return 1;
        if (n >= 2 && s[0] == 'W' && s[1] == '/') {
            s += 2;
            n -= 2;
        }
        if (n == elen && memcmp(s, etag, n) == 0)
            return 1;
    }
    return 0;
}
