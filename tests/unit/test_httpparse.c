/* Request target, query string and header parsing. */
#include <stdio.h>
#include <string.h>

#include "roster_httpparse.h"
#include "roster_query.h"
#include "util.h"

static struct roster_target parse(const char *raw)
{
    struct roster_target t;
    roster_target_parse(raw, strlen(raw), &t);
    return t;
}

START_TEST(targets)
{
    ck_assert_int_eq(parse("/v1/profiles").route, ROSTER_ROUTE_PROFILES);
    ck_assert_int_eq(parse("/v1/profiles?limit=2").route, ROSTER_ROUTE_PROFILES);
    struct roster_target t = parse("/v1/profiles/worker-devops/tool-priorities?x=1");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VIEW);
    ck_assert_int_eq((int)t.id_len, 13);
    ck_assert(strncmp(t.view, "tool-priorities", t.view_len) == 0);
    ck_assert_int_eq((int)t.query_len, 3);
    ck_assert_int_eq(parse("/v1/profiles/a").route, ROSTER_ROUTE_PROFILE);
    ck_assert_int_eq(parse("/health").route, ROSTER_ROUTE_HEALTH);
    ck_assert_int_eq(parse("/openapi.yaml").route, ROSTER_ROUTE_OPENAPI);
    ck_assert_int_eq(parse("/v1/admin/reload").route, ROSTER_ROUTE_RELOAD);
    ck_assert_int_eq(parse("/v1/events").route, ROSTER_ROUTE_EVENTS);
    /* path segments are percent-decoded, then checked */
    t = parse("/v1/profiles/%61bc");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_PROFILE);
    ck_assert_str_eq(t.id, "abc");
    t = parse("/v1/profiles/worker-devops/%72ole");
    ck_assert_int_eq(t.route, ROSTER_ROUTE_VIEW);
    ck_assert_str_eq(t.view, "role");
    ck_assert_int_eq(parse("/v1/profiles/%2E%2E").route, ROSTER_ROUTE_BAD_ID);
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
    ck_assert_int_eq(parse(raw).route, ROSTER_ROUTE_PROFILE);
    /* not routes */
    ck_assert_int_eq(parse("/v1/profiles/").route, ROSTER_ROUTE_BAD_ID);
    ck_assert_int_eq(parse("/v1//profiles").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v2/profiles").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/v1/profiles/a/b/c").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("v1/profiles").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("").route, ROSTER_ROUTE_NOT_FOUND);
    ck_assert_int_eq(parse("/").route, ROSTER_ROUTE_NOT_FOUND);
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
    ck_assert_str_eq(p[0].value, "ci/cd pipe");
    ck_assert_str_eq(p[2].key, "flag");
    ck_assert_str_eq(p[2].value, "");
    ck_assert_int_lt(qparse("q=%zz", p, &n, why), 0);
    ck_assert(strstr(why, "percent") != NULL);
    ck_assert_int_lt(qparse("q=%4", p, &n, why), 0);
    ck_assert_int_lt(qparse("q=a%00b", p, &n, why), 0);
    ck_assert_int_lt(qparse("q=%c3%28", p, &n, why), 0); /* invalid UTF-8 */
    /* repeated keys are parsed in order; the caller decides which may repeat */
    ck_assert_int_eq(qparse("q=1&fields=a&q=2&fields=b", p, &n, why), 0);
    ck_assert_uint_eq(n, 4);
    static const char *const repeatable[] = {"fields", NULL};
    ck_assert_str_eq(roster_query_repeated(p, n, repeatable), "q");
    ck_assert_int_eq(qparse("fields=a&q=1&fields=b", p, &n, why), 0);
    ck_assert_ptr_null(roster_query_repeated(p, n, repeatable));
    ck_assert_str_eq(roster_query_repeated(p, n, NULL), "fields");
    ck_assert_int_lt(qparse("a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q", p, &n, why), 0);
    char big[2000];
    memset(big, 'x', sizeof(big));
    big[0] = 'q';
    big[1] = '=';
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_lt(qparse(big, p, &n, why), 0);
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
        int r = roster_query_integer(cases[i].s, 1, 500, &v);
        if (cases[i].want) {
            ck_assert_msg(r == 0 && v == cases[i].want, "'%s' should be %lu", cases[i].s,
                          cases[i].want);
        } else {
            ck_assert_msg(r < 0, "'%s' should be refused", cases[i].s);
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
    ck_assert_int_lt(roster_cursor_decode("!!!", dec, sizeof(dec)), 0);
    ck_assert_int_lt(roster_cursor_decode("", dec, sizeof(dec)), 0);
    ck_assert_int_lt(roster_cursor_decode("Li4", dec, sizeof(dec)), 0); /* ".." is not an id */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httpparse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, targets);
    tcase_add_test(tc, query_strings);
    tcase_add_test(tc, integers);
    tcase_add_test(tc, accept_headers);
    tcase_add_test(tc, cursors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
