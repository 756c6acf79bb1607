/* Allocation failure at every allocation site along the index build and
 * the request path: an error or a 503, never a crash (the sanitizer and
 * valgrind runs also prove no leak on any of these paths). A failure that
 * was tolerated (the build or request succeeded anyway) and a retry after
 * an error must give exactly the bytes of a run without failures: a
 * snapshot and a response depend on content only. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "roster_base.h"
#include "roster_http.h"
#include "roster_log.h"
#include "roster_metrics.h"
#include "roster_snapshot.h"
#include "util.h"

static int build(const char *dir, struct roster_snapshot **out)
{
    struct roster_error err;
    roster_error_clear(&err);
    /* prerendered: every representation is rendered under the failures */
    struct roster_snapshot_opts o = {.dir = dir, .generation = 1, .prerender = 1};
    return roster_snapshot_build(out, &o, &err);
}

static void same_bytes(const char *what, const char *a, size_t alen, const char *b, size_t blen,
                       const char *ctx)
{
    ck_assert_msg(alen == blen && (alen == 0 || memcmp(a, b, alen) == 0),
                  "%s: %s differs (%zu and %zu bytes)", ctx, what, alen, blen);
}

static void same_rep(const struct roster_rep *a, const struct roster_rep *b, const char *what,
                     const char *ctx)
{
    same_bytes(what, a->body, a->len, b->body, b->len, ctx);
    const struct roster_gz *za = NULL, *zb = NULL;
    ck_assert_int_eq(roster_rep_gzip(a, &za), 0);
    ck_assert_int_eq(roster_rep_gzip(b, &zb), 0);
    ck_assert_msg(!za == !zb, "%s: %s gzip variant present in one only", ctx, what);
    if (za)
        same_bytes(what, za->data, za->len, zb->data, zb->len, ctx);
    ck_assert_msg(strcmp(a->etag, b->etag) == 0 && strcmp(a->etag_gz, b->etag_gz) == 0,
                  "%s: %s ETag %s, expected %s", ctx, what, b->etag, a->etag);
    ck_assert_msg((a->ctype == NULL) == (b->ctype == NULL) &&
                      (!a->ctype || strcmp(a->ctype, b->ctype) == 0),
                  "%s: %s content type", ctx, what);
}

/* b serves exactly what a serves: every profile with its state, every
 * representation (bytes, gzip, ETags), summaries, search text, parents,
 * and the snapshot-wide documents. */
static void expect_same_snapshot(const struct roster_snapshot *a, const struct roster_snapshot *b,
                                 const char *ctx)
{
    ck_assert_msg(a->n == b->n && a->served == b->served && a->invalid == b->invalid &&
                      a->stale == b->stale && a->generation == b->generation,
                  "%s: %zu profiles (%zu served, %zu invalid), expected %zu (%zu, %zu)", ctx, b->n,
                  b->served, b->invalid, a->n, a->served, a->invalid);
    for (size_t i = 0; i < a->n; i++) {
        const struct roster_sprofile *x = &a->profiles[i], *y = &b->profiles[i];
        ck_assert_msg(strcmp(x->id, y->id) == 0, "%s: profile %zu is %s, expected %s", ctx, i,
                      y->id, x->id);
        ck_assert_msg(x->ok == y->ok && x->stale == y->stale, "%s: %s changed state", ctx, x->id);
        ck_assert_msg(strcmp(x->file, y->file) == 0 &&
                          strcmp(x->source_sha256, y->source_sha256) == 0,
                      "%s: %s source", ctx, x->id);
        ck_assert_msg(json_equal(x->diagnostics, y->diagnostics), "%s: %s diagnostics", ctx, x->id);
        ck_assert_msg(x->nparents == y->nparents, "%s: %s parents", ctx, x->id);
        for (size_t k = 0; k < x->nparents; k++)
            ck_assert_msg(strcmp(x->parents[k], y->parents[k]) == 0, "%s: %s parent %zu", ctx,
                          x->id, k);
        if (!x->ok)
            continue;
        ck_assert_msg(json_equal(x->summary, y->summary) && strcmp(x->key, y->key) == 0,
                      "%s: %s summary or lineage digest", ctx, x->id);
        ck_assert_msg(strcmp(x->haystack, y->haystack) == 0, "%s: %s search text", ctx, x->id);
        for (int v = 0; v < ROSTER_REP_COUNT; v++)
            same_rep(rep_of(a, x, v), rep_of(b, y, v),
                     v == ROSTER_REP_PROMPT_JSON ? "prompt JSON"
                                                 : roster_view_name((enum roster_view)v),
                     ctx);
    }
    same_rep(&a->list_default, &b->list_default, "default listing", ctx);
    same_rep(&a->facets, &b->facets, "facets", ctx);
    same_rep(&a->diagnostics, &b->diagnostics, "diagnostics", ctx);
    for (int k = 0; k < 3; k++)
        same_rep(&a->diagnostics_sev[k], &b->diagnostics_sev[k], "diagnostics by severity", ctx);
    ck_assert_msg(json_equal(a->diag_items, b->diag_items), "%s: diagnostic items", ctx);
}

/* Fails allocation n (alone, or n and every later one) for every n up to
 * the count a successful build needs, stepping by `stride`. A build that
 * tolerated the failure, and one retried after it failed, serve exactly
 * what a build without failures serves. */
static void sweep(const char *dir, long stride)
{
    struct roster_snapshot *good = NULL, *s = NULL;
    roster_alloc_fail_at(0, 0);
    ck_assert_int_eq(build(dir, &good), 0);
    long total = roster_alloc_count();
    ck_assert_int_gt(total, 10);
    long tolerated = 0, failed = 0;
    char ctx[96];
    for (int sticky = 0; sticky < 2; sticky++) {
        for (long n = 1; n <= total; n += stride) {
            s = NULL;
            roster_alloc_fail_at(n, sticky);
            int r = build(dir, &s);
            roster_alloc_fail_at(0, 0);
            snprintf(ctx, sizeof(ctx), "%s, allocation %ld failing%s", dir, n,
                     sticky ? " and every later one" : "");
            if (r == 0) {
                tolerated++;
                ck_assert_ptr_nonnull(s);
                expect_same_snapshot(good, s, ctx);
                roster_snapshot_unref(s);
                continue;
            }
            /* an allocation failure is reported as one, with no output */
            ck_assert_msg(r == ROSTER_ENOMEM, "%s: error %d", ctx, r);
            ck_assert_ptr_null(s);
            /* and leaves nothing behind that changes the next build (checked
             * after every 8th failure: a full rebuild each time would double
             * the sweep) */
            if (failed++ % 8 != 0)
                continue;
            ck_assert_int_eq(build(dir, &s), 0);
            expect_same_snapshot(good, s, ctx);
            roster_snapshot_unref(s);
        }
    }
    /* a sticky failure at the first allocation cannot be tolerated */
    ck_assert_int_gt(failed, 0);
    if (getenv("ROSTER_ALLOC_VERBOSE"))
        fprintf(stderr, "%s: %ld builds tolerated a failure, %ld failed\n", dir, tolerated, failed);
    roster_snapshot_unref(good);
}

START_TEST(index_build_small_every_site)
{
    json_set_alloc_funcs(roster_malloc, roster_free);
    sweep(fixture("trees/merge"), 1);
}
END_TEST

START_TEST(index_build_bundled_profiles)
{
    json_set_alloc_funcs(roster_malloc, roster_free);
    const char *stride = getenv("ROSTER_ALLOC_STRIDE");
    sweep(fixture("../../profiles"), stride ? atol(stride) : 7);
}
END_TEST

/* One response, read to the end of the connection. */
struct response {
    int status; /* 0: closed without a status line */
    char ctype[128];
    char encoding[32];
    char etag[128];
    char *body; /* malloc'd, NUL-terminated */
    size_t len;
};

static void header_value(const char *head, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return;
        }
    }
}

/* One GET over a fresh connection. A fixed X-Request-Id makes problem
 * documents (which carry it) the same from one request to the next. */
static void fetch(unsigned port, const char *target, struct response *r)
{
    memset(r, 0, sizeof(*r));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                     "X-Request-Id: alloc-sweep\r\nConnection: close\r\n\r\n",
                     target);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    ssize_t got;
    while (len < cap && (got = read(fd, buf + len, cap - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (len < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0 || !end) {
        free(buf);
        return;
    }
    r->status = (int)strtol(buf + 9, NULL, 10);
    *end = '\0';
    header_value(buf, "Content-Type", r->ctype, sizeof(r->ctype));
    header_value(buf, "Content-Encoding", r->encoding, sizeof(r->encoding));
    header_value(buf, "ETag", r->etag, sizeof(r->etag));
    r->len = len - (size_t)(end + 4 - buf);
    r->body = malloc(r->len + 1);
    ck_assert_ptr_nonnull(r->body);
    memcpy(r->body, end + 4, r->len);
    r->body[r->len] = '\0';
    free(buf);
}

/* A JSON body (a projection, a listing, a problem) whose bytes are not
 * JSON: what jansson made of a failed key write before roster_render_dump
 * refused partial documents. */
static int body_not_json(const struct response *r)
{
    size_t tl = strcspn(r->ctype, ";");
    /* application/json, and application/...+json (problem, projection) */
    if (!(tl == 16 && strncmp(r->ctype, "application/json", 16) == 0) &&
        !(tl > 5 && strncmp(r->ctype + tl - 5, "+json", 5) == 0))
        return 0;
    const char *text = r->body;
    size_t len = r->len;
    char *plain = NULL;
    if (strcmp(r->encoding, "gzip") == 0) {
        size_t cap = 1 << 20;
        plain = malloc(cap);
        ck_assert_ptr_nonnull(plain);
        z_stream z;
        memset(&z, 0, sizeof(z));
        ck_assert_int_eq(inflateInit2(&z, 31), Z_OK);
        z.next_in = (Bytef *)r->body;
        z.avail_in = (uInt)r->len;
        z.next_out = (Bytef *)plain;
        z.avail_out = (uInt)cap;
        ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
        len = z.total_out;
        inflateEnd(&z);
        text = plain;
    }
    json_t *j = json_loadb(text, len, 0, NULL);
    json_decref(j);
    free(plain);
    return j == NULL;
}

/* A problem document is the same one when what identifies the problem
 * (type, title, status, code) is there and equal. The rest is best effort
 * when memory is short (roster_send_problem writes a null instance when
 * json_string fails, a 404 may lose its suggestions): each other member
 * is equal, null, missing, or a shortened list, never different. */
static void expect_same_problem(const struct response *want, const struct response *got,
                                const char *ctx)
{
    json_t *w = json_loadb(want->body, want->len, 0, NULL);
    json_t *g = json_loadb(got->body, got->len, 0, NULL);
    ck_assert_msg(w && g, "%s: a problem document that is not JSON", ctx);
    static const char *const required[] = {"type", "title", "status", "code"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        ck_assert_msg(json_equal(json_object_get(g, required[i]), json_object_get(w, required[i])),
                      "%s: problem member %s differs", ctx, required[i]);
    const char *k;
    json_t *v;
    json_object_foreach(g, k, v)
    {
        const json_t *x = json_object_get(w, k);
        int prefix =
            json_is_array(v) && json_is_array(x) && json_array_size(v) <= json_array_size(x);
        for (size_t i = 0; prefix && i < json_array_size(v); i++)
            prefix = json_equal(json_array_get(v, i), json_array_get(x, i));
        ck_assert_msg(prefix || json_is_null(v) || json_equal(v, x),
                      "%s: problem member %s differs", ctx, k);
    }
    json_decref(w);
    json_decref(g);
}

/* got is the response want is: status, type, encoding, ETag and every
 * body byte (for the metrics only the status and type: their counters
 * move with every request; for problem documents every member). */
static void expect_same_response(const struct response *want, const struct response *got,
                                 int exact_body, const char *ctx)
{
    ck_assert_msg(got->status == want->status, "%s: status %d, expected %d", ctx, got->status,
                  want->status);
    ck_assert_msg(strcmp(got->ctype, want->ctype) == 0, "%s: type %s, expected %s", ctx, got->ctype,
                  want->ctype);
    if (!exact_body)
        return;
    if (want->status >= 400 && strcmp(want->ctype, "application/problem+json") == 0) {
        expect_same_problem(want, got, ctx);
        return;
    }
    ck_assert_msg(strcmp(got->encoding, want->encoding) == 0 && strcmp(got->etag, want->etag) == 0,
                  "%s: encoding %s ETag %s, expected %s %s", ctx, got->encoding, got->etag,
                  want->encoding, want->etag);
    ck_assert_msg(got->len == want->len && memcmp(got->body, want->body, got->len) == 0,
                  "%s: body differs (%zu bytes, expected %zu)", ctx, got->len, want->len);
}

START_TEST(request_path_every_site)
{
    json_set_alloc_funcs(roster_malloc, roster_free);
    roster_log_setup(1, ROSTER_LOG_ERROR);
    struct roster_snapshot *s = NULL;
    ck_assert_int_eq(build(fixture("../../profiles"), &s), 0);
    struct roster_metrics *m = roster_metrics_new();
    struct roster_server *srv = NULL;
    struct roster_server_config cfg = {.host = "127.0.0.1",
                                       .threads = 1,
                                       .max_connections = 50,
                                       .connection_timeout = 5,
                                       .max_request_bytes = 32768};
    char why[200];
    ck_assert_int_eq(roster_server_start(&srv, &cfg, m, why, sizeof(why)), 0);
    roster_server_swap(srv, s);
    unsigned port = roster_server_port(srv);
    const char *targets[] = {"/v1/profiles/worker-devops",
                             "/v1/profiles?q=devops&fields=id,name&limit=1",
                             "/v1/profiles/worker-devops?fields=id,role",
                             "/v1/profiles/nope",
                             "/v1/profiles/a%2Fb",
                             "/v1/diagnostics?severity=warning",
                             "/metrics",
                             "/ready"};
    const char *only = getenv("ROSTER_ALLOC_TARGET"); /* debugging: one target */
    char ctx[200];
    for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
        if (only && strtoul(only, NULL, 10) != t)
            continue;
        int exact = strcmp(targets[t], "/metrics") != 0;
        struct response ok, r;
        roster_alloc_fail_at(0, 0);
        fetch(port, targets[t], &ok);
        ck_assert_int_ne(ok.status, 0);
        ck_assert_int_ne(ok.status, 503);
        /* the same request twice without failures: the same bytes */
        fetch(port, targets[t], &r);
        expect_same_response(&ok, &r, exact, targets[t]);
        free(r.body);
        for (long k = 0; k < 120; k++) {
            long n = k % 60 + 1;
            int sticky = k >= 60;
            roster_alloc_fail_at(n, sticky);
            fetch(port, targets[t], &r);
            roster_alloc_fail_at(0, 0);
            snprintf(ctx, sizeof(ctx), "%s with allocation %ld failing%s", targets[t], n,
                     sticky ? " and every later one" : "");
            ck_assert_msg(r.status == 0 || r.status == ok.status || r.status == 503,
                          "%s: status %d", ctx, r.status);
            /* never a partial document, whatever failed */
            ck_assert_msg(!body_not_json(&r), "%s: a %d whose body is not JSON", ctx, r.status);
            if (r.status == ok.status) {
                /* tolerated: exactly what a request without failures gets */
                expect_same_response(&ok, &r, exact, ctx);
            } else {
                if (r.status == 503)
                    ck_assert_msg(strcmp(r.ctype, "application/problem+json") == 0,
                                  "%s: a 503 of type %s", ctx, r.ctype);
                /* retried: the server answers as before */
                free(r.body);
                fetch(port, targets[t], &r);
                snprintf(ctx, sizeof(ctx), "%s, retried after allocation %ld failed", targets[t],
                         n);
                expect_same_response(&ok, &r, exact, ctx);
            }
            free(r.body);
        }
        /* and the server is fine afterwards */
        fetch(port, targets[t], &r);
        expect_same_response(&ok, &r, exact, targets[t]);
        free(r.body);
        free(ok.body);
    }
    roster_server_stop(srv);
    roster_metrics_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, index_build_small_every_site);
    tcase_add_test(tc, index_build_bundled_profiles);
    tcase_add_test(tc, request_path_every_site);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
