/* Request target, query string and header parsing. */
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_httpparse.h"
#include "roster_query.h"
#include "util.h"

static struct roster_target parse(const char *raw)
{
    struct roster_target t;
    roster_target_parse(raw, strlen(raw), &t);
    return t;
}

/* A view, id or query slice equals want exactly: same length, same bytes
 * (a prefix comparison would let "tool" pass for "tool-priorities"). */
static void expect_slice(const char *got, size_t got_len, const char *want)
{
    ck_assert_msg(got_len == strlen(want) && memcmp(got, want, got_len) == 0,
                  "'%.*s' (%zu bytes) is not '%s'", (int)got_len, got ? got : "", got_len, want);
}

/* A route with no id, no view and the given query (NULL: none). */
static void expect_plain(const char *raw, enum roster_route_kind route, const char *query)
{
    struct roster_target t = parse(raw);
    ck_assert_msg(t.route == route, "%s: route %d, expected %d", raw, t.route, route);
    ck_assert_uint_eq(t.id_len, 0);
    ck_assert_str_eq(t.id, "");
    ck_assert_uint_eq(t.view_len, 0);
    ck_assert_str_eq(t.view, "");
    if (!query) {
        ck_assert_ptr_null(t.query);
        ck_assert_uint_eq(t.query_len, 0);
    } else {
        ck_assert_ptr_eq(t.query, strchr(raw, '?') + 1); /* a slice of the raw target */
        expect_slice(t.query, t.query_len, query);
    }
}

START_TEST(targets)
{
    expect_plain("/v1/profiles", ROSTER_ROUTE_PROFILES, NULL);
    expect_plain("/v1/profiles?limit=2", ROSTER_ROUTE_PROFILES, "limit=2");
    expect_plain("/v1/profiles?", ROSTER_ROUTE_PROFILES, "");
    struct roster_target t = parse("/v1/profiles/worker-devops/tool-priorities?x=1");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VIEW);
    expect_slice(t.id, t.id_len, "worker-devops");
    ck_assert_str_eq(t.id, "worker-devops");
    expect_slice(t.view, t.view_len, "tool-priorities");
    ck_assert_str_eq(t.view, "tool-priorities");
    expect_slice(t.query, t.query_len, "x=1");
    /* a view that is a prefix of another is not that other */
    t = parse("/v1/profiles/worker-devops/tool");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VIEW);
    expect_slice(t.view, t.view_len, "tool");
    ck_assert_ptr_null(t.query);
    t = parse("/v1/profiles/a");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_PROFILE);
    expect_slice(t.id, t.id_len, "a");
    ck_assert_uint_eq(t.view_len, 0);
    ck_assert_str_eq(t.view, "");
    expect_plain("/health", ROSTER_ROUTE_HEALTH, NULL);
    expect_plain("/ready", ROSTER_ROUTE_READY, NULL);
    expect_plain("/metrics", ROSTER_ROUTE_METRICS, NULL);
    expect_plain("/version", ROSTER_ROUTE_VERSION, NULL);
    expect_plain("/openapi.yaml", ROSTER_ROUTE_OPENAPI, NULL);
    expect_plain("/v1/admin/reload", ROSTER_ROUTE_RELOAD, NULL);
    expect_plain("/v1/events", ROSTER_ROUTE_EVENTS, NULL);
    expect_plain("/v1/facets", ROSTER_ROUTE_FACETS, NULL);
    expect_plain("/v1/diagnostics?severity=error", ROSTER_ROUTE_DIAGNOSTICS, "severity=error");
    /* path segments are percent-decoded, then checked */
    t = parse("/v1/profiles/%61bc");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_PROFILE);
    expect_slice(t.id, t.id_len, "abc");
    ck_assert_str_eq(t.id, "abc");
    t = parse("/v1/profiles/worker-devops/%72ole");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VIEW);
    expect_slice(t.view, t.view_len, "role");
    ck_assert_str_eq(t.view, "role");
    /* a refused id is not handed on */
    t = parse("/v1/profiles/%2E%2E");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_BAD_ID);
    ck_assert_uint_eq(t.id_len, 0);
    ck_assert_str_eq(t.id, "");
    ck_assert_int_eq(parse("/v1/profiles/a%zz").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1/profiles/a%4").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1/profiles/%41bc").route, ROSTER_ROUTE_BAD_ID); /* "Abc" */
    ck_assert_int_eq(parse("/v1/profiles/a/%00").route, ROSTER_ROUTE_NOT_FOUND);
    /* and never smuggle in what the raw bytes may not carry */
    ck_assert_int_eq(parse("/v1/profiles/a%00b").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1/profiles/a%2Fb").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1/profiles/..").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1/profiles/\xc3\xa9").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1/profiles/Upper").route, ROSTER_ROUTE_BAD_ID);
    char longid[200];
    memset(longid, 'a', sizeof(longid));
    char raw[300];
    snprintf(raw, sizeof(raw), "/v1/profiles/%.*s", 129, longid);
    ck_assert_int_eq(parse(raw).route, ROSTER_ROUTE_BAD_ID);
    snprintf(raw, sizeof(raw), "/v1/profiles/%.*s", 128, longid);
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_PROFILE);
    ck_assert_uint_eq(t.id_len, 128);
    ck_assert_uint_eq(strlen(t.id), 128);
    /* not routes */
    ck_assert_int_eq(parse("/v1/profiles/").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1//profiles").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v2/profiles").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profiles/a/b/c").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("v1/profiles").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/healthz").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/health/").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profile").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profilesx").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/admin/reloads").route, ROSTER_ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(version_targets)
{
    static const char hex[] = "878c299500b1985cf0591514762e7d453555dd4377fce4b6f244afd19c5f8b44";
    char raw[400], want[80];
    /* the list: before {view}, which "versions" would otherwise be */
    struct roster_target t = parse("/v1/profiles/base/versions?limit=2");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSIONS);
    expect_slice(t.id, t.id_len, "base");
    ck_assert_uint_eq(t.view_len, 0);
    ck_assert_uint_eq(t.digest_len, 0);
    expect_slice(t.query, t.query_len, "limit=2");
    ck_assert_int_eq(parse("/v1/profiles/base/version").route, ROSTER_ROUTE_VIEW);
    ck_assert_int_eq(parse("/v1/profiles/base/versionsx").route, ROSTER_ROUTE_VIEW);
    /* one version, and its prompt; the digest is kept as sent (decoded) */
    snprintf(raw, sizeof(raw), "/v1/profiles/worker-sre/versions/sha256:%s", hex);
    snprintf(want, sizeof(want), "sha256:%s", hex);
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROFILE);
    expect_slice(t.id, t.id_len, "worker-sre");
    expect_slice(t.digest, t.digest_len, want);
    ck_assert_str_eq(t.digest, want);
    ck_assert_uint_eq(t.view_len, 0);
    snprintf(raw, sizeof(raw), "/v1/profiles/worker-sre/versions/sha256%%3A%s/prompt?x", hex);
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROMPT);
    expect_slice(t.id, t.id_len, "worker-sre");
    expect_slice(t.digest, t.digest_len, want);
    expect_slice(t.query, t.query_len, "x");
    /* the diff of two versions: {digest} and {other}; elsewhere other is "" */
    snprintf(raw, sizeof(raw), "/v1/profiles/worker-sre/versions/sha256:%s/diff/%s", hex, hex);
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_DIFF);
    expect_slice(t.id, t.id_len, "worker-sre");
    expect_slice(t.digest, t.digest_len, want);
    expect_slice(t.other, t.other_len, hex);
    snprintf(raw, sizeof(raw), "/v1/profiles/worker-sre/versions/sha256:%s/diffs/%s", hex, hex);
    ck_assert_int_eq(parse(raw).route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_uint_eq(parse(raw).other_len, 0);
    snprintf(raw, sizeof(raw), "/v1/profiles/a/versions/%s", hex);
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROFILE);
    expect_slice(t.digest, t.digest_len, hex);
    /* any segment routes (a malformed digest is the handler's 400); one that
     * cannot be decoded or kept arrives empty */
    t = parse("/v1/profiles/a/versions/nonsense");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROFILE);
    expect_slice(t.digest, t.digest_len, "nonsense");
    t = parse("/v1/profiles/a/versions/");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROFILE);
    ck_assert_uint_eq(t.digest_len, 0);
    t = parse("/v1/profiles/a/versions/ab%00cd/prompt");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROMPT);
    ck_assert_uint_eq(t.digest_len, 0);
    ck_assert_str_eq(t.digest, "");
    snprintf(raw, sizeof(raw), "/v1/profiles/a/versions/sha256:%s0", hex); /* 72 bytes */
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VERSION_PROFILE);
    ck_assert_uint_eq(t.digest_len, 0);
    /* a bad id is still the route's (for its methods), with nothing decoded */
    snprintf(raw, sizeof(raw), "/v1/profiles/Bad/versions/%s/prompt", hex);
    t = parse(raw);
    ck_assert_int_eq(t.route, ROSTER_ROUTE_BAD_ID);
    ck_assert_ptr_eq(t.entry, roster_route_of(ROSTER_ROUTE_VERSION_PROMPT));
    ck_assert_uint_eq(t.id_len, 0);
    ck_assert_uint_eq(t.digest_len, 0);
    ck_assert_int_eq(parse("/v1/profiles/%2E%2E/versions").route, ROSTER_ROUTE_BAD_ID);
    /* other shapes are not routes; other routes carry no digest */
    ck_assert_int_eq(parse("/v1/profiles/a/versions/x/role").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profiles/a/versions/x/prompt/y").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profiles/a/version/x").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profiles/a/versions/x/prompt/y/z").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profiles/a/versions/x/prompt/y/z/w").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/a/b/c/d/e/f/g/h/i").route, ROSTER_ROUTE_NOT_FOUND);
    t = parse("/v1/profiles/a/role");
    ck_assert_uint_eq(t.digest_len, 0);
    ck_assert_str_eq(t.digest, "");
}
END_TEST

static int qparse(const char *qs, struct roster_param *p, size_t *n, char *why)
{
    static char buf[4096];
    return roster_query_string_parse(qs, strlen(qs), p, n, buf, sizeof(buf), why, 200);
}

START_TEST(query_strings)
{
    struct roster_param p[ROSTER_QUERY_MAX_PARAMS];
    size_t n;
    char why[200];
    ck_assert_int_eq(qparse("q=ci%2Fcd+pipe&limit=5&&flag", p, &n, why), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(p[0].key, "q");
    ck_assert_str_eq(p[0].value, "ci/cd pipe");
    ck_assert_str_eq(p[1].key, "limit");
    ck_assert_str_eq(p[1].value, "5");
    ck_assert_str_eq(p[2].key, "flag");
    ck_assert_str_eq(p[2].value, "");
    /* keys are decoded too; only the first '=' splits */
    ck_assert_int_eq(qparse("a%5Fb=x=y&%3D=+", p, &n, why), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(p[0].key, "a_b");
    ck_assert_str_eq(p[0].value, "x=y");
    ck_assert_str_eq(p[1].key, "=");
    ck_assert_str_eq(p[1].value, " ");
    ck_assert_int_eq(qparse("", p, &n, why), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(qparse("q=%zz", p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "invalid percent-escape in the query string");
    ck_assert_int_eq(qparse("q=%4", p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "invalid percent-escape in the query string");
    ck_assert_int_eq(qparse("q%zz=1", p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "invalid percent-escape in the query string");
    ck_assert_int_eq(qparse("q=a%00b", p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "%00 is not allowed in the query string");
    ck_assert_int_eq(qparse("q=%c3%28", p, &n, why), ROSTER_EINVAL); /* invalid UTF-8 */
    ck_assert_str_eq(why, "query string is not valid UTF-8");
    ck_assert_int_eq(qparse("q=%c3%a9", p, &n, why), 0); /* valid UTF-8: "é" */
    ck_assert_str_eq(p[0].value, "\xc3\xa9");
    /* repeated keys are parsed in order; the caller decides which may repeat */
    ck_assert_int_eq(qparse("q=1&fields=a&q=2&fields=b", p, &n, why), 0);
    ck_assert_uint_eq(n, 4);
    static const char *const order[][2] = {
        {"q", "1"}, {"fields", "a"}, {"q", "2"}, {"fields", "b"}};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(p[i].key, order[i][0]);
        ck_assert_str_eq(p[i].value, order[i][1]);
    }
    static const char *const repeatable[] = {"fields", NULL};
    ck_assert_str_eq(roster_query_repeated(p, n, repeatable), "q");
    ck_assert_int_eq(qparse("fields=a&q=1&fields=b", p, &n, why), 0);
    ck_assert_ptr_null(roster_query_repeated(p, n, repeatable));
    ck_assert_str_eq(roster_query_repeated(p, n, NULL), "fields");
    /* 16 parameters are fine, the 17th is refused */
    ck_assert_int_eq(qparse("a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p", p, &n, why), 0);
    ck_assert_uint_eq(n, ROSTER_QUERY_MAX_PARAMS);
    ck_assert_int_eq(qparse("a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q", p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "more than 16 query parameters");
    char big[2000];
    memset(big, 'x', sizeof(big));
    big[0] = 'q';
    big[1] = '=';
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(qparse(big, p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "query parameter longer than 1024 bytes");
    /* exactly the longest value */
    big[2 + ROSTER_QUERY_MAX_VALUE] = '\0';
    ck_assert_int_eq(qparse(big, p, &n, why), 0);
    ck_assert_uint_eq(strlen(p[0].value), ROSTER_QUERY_MAX_VALUE);
    big[2 + ROSTER_QUERY_MAX_VALUE] = 'x';
    big[3 + ROSTER_QUERY_MAX_VALUE] = '\0';
    ck_assert_int_eq(qparse(big, p, &n, why), ROSTER_EINVAL);
    ck_assert_str_eq(why, "query parameter longer than 1024 bytes");
}
END_TEST

START_TEST(route_table)
{
    size_t n = 0;
    const struct roster_route *rt = roster_routes(&n);
    ck_assert_uint_eq(n, ROSTER_ROUTE_COUNT - 2); /* all but NOT_FOUND and BAD_ID */
    for (size_t i = 0; i < n; i++) {
        unsigned slashes = 0;
        for (const char *p = rt[i].pattern; *p; p++)
            slashes += *p == '/';
        ck_assert_msg(rt[i].nseg == slashes, "%s: nseg %u, pattern has %u segments", rt[i].pattern,
                      rt[i].nseg, slashes);
        ck_assert_ptr_eq(roster_route_of(rt[i].kind), &rt[i]);
        ck_assert_str_eq(roster_route_name(rt[i].kind), rt[i].metric);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(rt[i].pattern, rt[j].pattern);
    }
    ck_assert_ptr_null(roster_route_of(ROSTER_ROUTE_NOT_FOUND));
    ck_assert_ptr_eq(roster_route_of(ROSTER_ROUTE_BAD_ID), roster_route_of(ROSTER_ROUTE_PROFILE));
    ck_assert_str_eq(roster_route_name(ROSTER_ROUTE_BAD_ID), "profile");
}
END_TEST

START_TEST(integers)
{
    unsigned long v = 0;
    static const struct {
        const char *s;
        unsigned long want; /* 0: refused */
    } cases[] = {{"10", 10},   {"10.0", 10}, {"1e1", 10}, {"1E+1", 10}, {"500", 500}, {"1", 1},
                 {"0.5e1", 5}, {"0", 0},     {"501", 0},  {"-1", 0},    {"+5", 0},    {"1.5", 0},
                 {"01", 1},    {"1.", 0},    {".5", 0},   {"1e", 0},    {"0x10", 0},  {"inf", 0},
                 {"nan", 0},   {"", 0},      {" 5", 0},   {"5 ", 0},    {"1e400", 0}, {"-0", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 777;
        int r = roster_query_integer(cases[i].s, 1, 500, &v);
        if (cases[i].want) {
            ck_assert_msg(r == 0 && v == cases[i].want, "'%s' should be %lu", cases[i].s,
                          cases[i].want);
        } else {
            ck_assert_msg(r < 0, "'%s' should be refused", cases[i].s);
            ck_assert_msg(v == 777, "'%s' was refused but wrote %lu", cases[i].s, v);
        }
    }
}
END_TEST

START_TEST(accept_headers)
{
    ck_assert_int_eq(roster_accept_quality(NULL, "application/json"), 1000);
    ck_assert_int_eq(roster_accept_quality("*/*", "application/json"), 1000);
    ck_assert_int_eq(roster_accept_quality("application/*;q=0.5", "application/json"), 500);
    ck_assert_int_eq(roster_accept_quality("text/html", "application/json"), 0);
    ck_assert_int_eq(roster_accept_quality("application/json;q=0, */*", "application/json"), 0);
    ck_assert_int_eq(
        roster_accept_quality("text/markdown, application/json;q=0.9", "application/json"), 900);
    ck_assert_int_eq(roster_accept_quality("APPLICATION/JSON", "application/json"), 1000);
    ck_assert_int_eq(roster_accepts_gzip("gzip, deflate"), 1);
    ck_assert_int_eq(roster_accepts_gzip("gzip;q=0"), 0);
    ck_assert_int_eq(roster_accepts_gzip("br, *;q=0.1"), 1);
    ck_assert_int_eq(roster_accepts_gzip("identity"), 0);
    ck_assert_int_eq(roster_accepts_gzip(NULL), 0);
    ck_assert_int_eq(roster_etag_match("\"a\", W/\"b\"", "\"b\""), 1);
    ck_assert_int_eq(roster_etag_match("\"a\"", "\"b\""), 0);
    ck_assert_int_eq(roster_etag_match("*", "\"b\""), 1);
    ck_assert_int_eq(roster_etag_match(NULL, "\"b\""), 0);
}
END_TEST

START_TEST(cursors)
{
    char enc[400], dec[400];
    ck_assert_int_eq(roster_cursor_encode("worker-devops", enc, sizeof(enc)), 0);
    ck_assert_int_eq(roster_cursor_decode(enc, dec, sizeof(dec)), 0);
    ck_assert_str_eq(dec, "worker-devops");
    ck_assert_str_eq(enc, "d29ya2VyLWRldm9wcw");
    ck_assert_int_eq(roster_cursor_decode("!!!", dec, sizeof(dec)), ROSTER_EINVAL);
    ck_assert_int_eq(roster_cursor_decode("", dec, sizeof(dec)), ROSTER_EINVAL);
    ck_assert_int_eq(roster_cursor_decode("Li4", dec, sizeof(dec)), ROSTER_EINVAL); /* ".." */
    /* any text (the versions cursor): decoded as it was, its length told */
    size_t n = 0;
    ck_assert_int_eq(roster_cursor_encode("v1:1712345678.125:ab", enc, sizeof(enc)), 0);
    ck_assert_int_eq(roster_cursor_decode_text(enc, dec, sizeof(dec), &n), 0);
    ck_assert_str_eq(dec, "v1:1712345678.125:ab");
    ck_assert_uint_eq(n, strlen(dec));
    ck_assert_int_eq(roster_cursor_decode(enc, dec, sizeof(dec)), ROSTER_EINVAL); /* no id */
    ck_assert_int_eq(roster_cursor_decode_text(enc, dec, 5, &n), ROSTER_EINVAL); /* too long */
    ck_assert_int_eq(roster_cursor_decode_text("a", dec, sizeof(dec), &n), ROSTER_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httpparse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, targets);
    tcase_add_test(tc, version_targets);
    tcase_add_test(tc, query_strings);
    tcase_add_test(tc, route_table);
    tcase_add_test(tc, integers);
    tcase_add_test(tc, accept_headers);
    tcase_add_test(tc, cursors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
