/* Prometheus metrics: request counters by route, method and status, the
 * duration histogram, reload counters and the snapshot gauges. The text
 * exposition is parsed here (format 0.0.4: HELP and TYPE once per family
 * before its samples, unique series) and compared sample by sample. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_metrics.h"
#include "roster_snapshot.h"
#include "roster_version.h"
#include "util.h"

#define MAX_SAMPLES 256
#define MAX_FAMILIES 64

struct exposition {
    size_t n;
    char series[MAX_SAMPLES][256]; /* name{labels} exactly as written */
    char value[MAX_SAMPLES][64];
    size_t nfam;
    char family[MAX_FAMILIES][96];
    char type[MAX_FAMILIES][16];
    int has_help[MAX_FAMILIES];
};

static int fam_index(const struct exposition *e, const char *name, size_t len)
{
    for (size_t i = 0; i < e->nfam; i++)
        if (strlen(e->family[i]) == len && strncmp(e->family[i], name, len) == 0)
            return (int)i;
    return -1;
}

static int name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static size_t metric_name(const char *p)
{
    size_t i = 0;
    while (name_char(p[i], i == 0))
        i++;
    return i;
}

/* The family a sample belongs to: a histogram's _bucket, _sum and _count
 * series belong to the histogram. */
static int family_of(const struct exposition *e, const char *name, size_t len)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t k = 0; k < 3; k++) {
        size_t sl = strlen(suffixes[k]);
        if (len > sl && strncmp(name + len - sl, suffixes[k], sl) == 0) {
            int f = fam_index(e, name, len - sl);
            if (f >= 0 && strcmp(e->type[f], "histogram") == 0)
                return f;
        }
    }
    return fam_index(e, name, len);
}

/* Label set: {k="v",...}; returns its length or 0 when malformed. */
static size_t labels(const char *p)
{
    size_t i = 1;
    if (p[0] != '{')
        return 0;
    while (p[i] != '}') {
        size_t k = metric_name(p + i);
        if (!k || p[i + k] != '=' || p[i + k + 1] != '"')
            return 0;
        i += k + 2;
        while (p[i] && p[i] != '"') {
            if (p[i] == '\\' && (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == 'n'))
                i++;
            else if (p[i] == '\n')
                return 0;
            i++;
        }
        if (p[i] != '"')
            return 0;
        i++;
        if (p[i] == ',')
            i++;
        else if (p[i] != '}')
            return 0;
    }
    return i + 1;
}

static void parse_exposition(const char *text, struct exposition *e)
{
    memset(e, 0, sizeof(*e));
    size_t tl = strlen(text);
    ck_assert_msg(tl > 0 && text[tl - 1] == '\n', "the exposition ends with a newline");
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = (size_t)(nl - line);
        ck_assert_msg(len > 0, "empty line in the exposition");
        char buf[512];
        ck_assert_uint_lt(len, sizeof(buf));
        memcpy(buf, line, len);
        buf[len] = '\0';
        if (strncmp(buf, "# HELP ", 7) == 0 || strncmp(buf, "# TYPE ", 7) == 0) {
            const char *name = buf + 7;
            size_t n = metric_name(name);
            ck_assert_msg(n > 0 && name[n] == ' ' && name[n + 1], "bad comment: %s", buf);
            int f = fam_index(e, name, n);
            if (buf[2] == 'H') {
                if (f < 0) {
                    ck_assert_uint_lt(e->nfam, MAX_FAMILIES);
                    f = (int)e->nfam++;
                    snprintf(e->family[f], sizeof(e->family[f]), "%.*s", (int)n, name);
                }
                ck_assert_msg(!e->has_help[f], "second HELP: %s", buf);
                ck_assert_msg(!e->type[f][0], "HELP after TYPE: %s", buf);
                e->has_help[f] = 1;
            } else {
                const char *t = name + n + 1;
                ck_assert_msg(f >= 0 && e->has_help[f], "TYPE without HELP: %s", buf);
                ck_assert_msg(!e->type[f][0], "second TYPE: %s", buf);
                ck_assert_msg(!strcmp(t, "counter") || !strcmp(t, "gauge") ||
                                  !strcmp(t, "histogram"),
                              "unknown type: %s", buf);
                snprintf(e->type[f], sizeof(e->type[f]), "%s", t);
            }
        } else {
            ck_assert_msg(buf[0] != '#', "unknown comment: %s", buf);
            size_t n = metric_name(buf);
            ck_assert_msg(n > 0, "bad sample: %s", buf);
            size_t l = buf[n] == '{' ? labels(buf + n) : 0;
            ck_assert_msg(buf[n] != '{' || l > 0, "bad labels: %s", buf);
            ck_assert_msg(buf[n + l] == ' ', "bad sample: %s", buf);
            int f = family_of(e, buf, n);
            ck_assert_msg(f >= 0 && e->type[f][0], "sample before its TYPE: %s", buf);
            const char *v = buf + n + l + 1;
            char *end = NULL;
            if (strcmp(v, "+Inf") && strcmp(v, "-Inf") && strcmp(v, "NaN")) {
                strtod(v, &end);
                ck_assert_msg(end != v && *end == '\0', "bad value: %s", buf);
            }
            ck_assert_uint_lt(e->n, MAX_SAMPLES);
            snprintf(e->series[e->n], sizeof(e->series[e->n]), "%.*s", (int)(n + l), buf);
            snprintf(e->value[e->n], sizeof(e->value[e->n]), "%s", v);
            for (size_t i = 0; i < e->n; i++)
                ck_assert_msg(strcmp(e->series[i], e->series[e->n]) != 0, "duplicate series %s",
                              buf);
            e->n++;
        }
        line = nl + 1;
    }
}

/* Value of one series; fails when absent. */
static const char *value(const struct exposition *e, const char *series)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->series[i], series) == 0)
            return e->value[i];
    ck_abort_msg("no series %s", series);
    return NULL;
}

/* The samples whose series starts with prefix are exactly `want` (lines
 * "series value", in order). */
static void expect_samples(const struct exposition *e, const char *prefix, const char *const *want,
                           size_t nwant)
{
    size_t k = 0;
    char line[400];
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->series[i], prefix, strlen(prefix)) != 0)
            continue;
        snprintf(line, sizeof(line), "%s %s", e->series[i], e->value[i]);
        ck_assert_msg(k < nwant, "unexpected sample %s", line);
        ck_assert_str_eq(line, want[k]);
        k++;
    }
    ck_assert_msg(k == nwant, "%zu samples of %s, expected %zu", k, prefix, nwant);
}

static void render(const struct roster_metrics *m, const struct roster_snapshot *s, int ready,
                   struct exposition *e)
{
    struct roster_buf b;
    roster_buf_init(&b, 1 << 20);
    ck_assert_int_eq(roster_metrics_render(m, s, ready, &b), 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(strlen(b.data), b.len);
    parse_exposition(b.data, e);
    roster_buf_release(&b);
}

static const char *type_of(const struct exposition *e, const char *family)
{
    int f = fam_index(e, family, strlen(family));
    ck_assert_msg(f >= 0, "no family %s", family);
    return e->type[f];
}

static struct exposition ex; /* large: not on the stack */

START_TEST(methods)
{
    ck_assert_int_eq(roster_method_of("GET"), ROSTER_M_GET);
    ck_assert_int_eq(roster_method_of("HEAD"), ROSTER_M_HEAD);
    ck_assert_int_eq(roster_method_of("OPTIONS"), ROSTER_M_OPTIONS);
    ck_assert_int_eq(roster_method_of("POST"), ROSTER_M_POST);
    /* methods are case-sensitive (RFC 9110) */
    ck_assert_int_eq(roster_method_of("get"), ROSTER_M_OTHER);
    ck_assert_int_eq(roster_method_of("PUT"), ROSTER_M_OTHER);
    ck_assert_int_eq(roster_method_of("GETX"), ROSTER_M_OTHER);
    ck_assert_int_eq(roster_method_of(""), ROSTER_M_OTHER);
    ck_assert_str_eq(roster_method_name(ROSTER_M_GET), "GET");
    ck_assert_str_eq(roster_method_name(ROSTER_M_POST), "POST");
    ck_assert_str_eq(roster_method_name(ROSTER_M_OTHER), "other");
    ck_assert_str_eq(roster_method_name((enum roster_method)99), "other");
}
END_TEST

START_TEST(empty_exposition)
{
    struct roster_metrics *m = roster_metrics_new();
    ck_assert_ptr_nonnull(m);
    render(m, NULL, 0, &ex);
    ck_assert_str_eq(type_of(&ex, "roster_http_requests_total"), "counter");
    ck_assert_str_eq(type_of(&ex, "roster_http_request_duration_seconds"), "histogram");
    ck_assert_str_eq(type_of(&ex, "roster_profiles"), "gauge");
    ck_assert_str_eq(type_of(&ex, "roster_reloads_total"), "counter");
    ck_assert_str_eq(type_of(&ex, "roster_ready"), "gauge");
    ck_assert_str_eq(type_of(&ex, "roster_representations_rendered_total"), "counter");
    /* no requests yet: no request series at all */
    expect_samples(&ex, "roster_http_request", NULL, 0);
    static const char *const all[] = {"roster_profiles{state=\"served\"} 0",
                                      "roster_profiles{state=\"invalid\"} 0",
                                      "roster_profiles{state=\"stale\"} 0",
                                      "roster_snapshot_generation 0",
                                      "roster_snapshot_build_seconds 0.000000",
                                      "roster_representations_rendered_total 0",
                                      "roster_diagnostics{severity=\"error\"} 0",
                                      "roster_diagnostics{severity=\"warning\"} 0",
                                      "roster_diagnostics{severity=\"info\"} 0",
                                      "roster_reloads_total{result=\"success\"} 0",
                                      "roster_reloads_total{result=\"failure\"} 0",
                                      "roster_history_writes_total{result=\"ok\"} 0",
                                      "roster_history_writes_total{result=\"error\"} 0",
                                      "roster_profiles_dir_failures_total 0",
                                      "roster_last_reload_timestamp_seconds 0.000",
                                      "roster_ready 0",
                                      "roster_build_info{version=\"" ROSTER_VERSION
                                      "\",revision=\"" ROSTER_REVISION "\"} 1"};
    expect_samples(&ex, "", all, sizeof(all) / sizeof(all[0]));
    ck_assert_uint_eq(ex.nfam, 13);
    roster_metrics_free(m);
}
END_TEST

START_TEST(requests_by_route_method_status)
{
    struct roster_metrics *m = roster_metrics_new();
    roster_metrics_request(m, ROSTER_ROUTE_PROFILE, ROSTER_M_GET, 200, 0.00005);
    roster_metrics_request(m, ROSTER_ROUTE_PROFILE, ROSTER_M_GET, 200, 0.001); /* on a bound */
    roster_metrics_request(m, ROSTER_ROUTE_BAD_ID, ROSTER_M_GET, 400, 0.0002);
    roster_metrics_request(m, ROSTER_ROUTE_PROFILES, ROSTER_M_HEAD, 304, 0.02);
    roster_metrics_request(m, ROSTER_ROUTE_METRICS, ROSTER_M_GET, 200, 0.3);
    roster_metrics_request(m, ROSTER_ROUTE_NOT_FOUND, ROSTER_M_OTHER, 418, 2.5);
    roster_metrics_request(m, (enum roster_route_kind)(ROSTER_ROUTE_COUNT + 3), ROSTER_M_POST, 404,
                           0.0);
    roster_metrics_request(m, ROSTER_ROUTE_RELOAD, ROSTER_M_POST, 202, 0.004);
    roster_metrics_request(m, ROSTER_ROUTE_RELOAD, ROSTER_M_OPTIONS, 204, 0.0001);
    roster_metrics_request(m, ROSTER_ROUTE_RELOAD, ROSTER_M_POST, 202, 0.0029);
    render(m, NULL, 1, &ex);
    /* an invalid id counts as the profile route; an unknown kind as unknown */
    static const char *const reqs[] = {
        "roster_http_requests_total{route=\"unknown\",method=\"POST\",status=\"404\"} 1",
        "roster_http_requests_total{route=\"unknown\",method=\"other\",status=\"other\"} 1",
        "roster_http_requests_total{route=\"profiles\",method=\"HEAD\",status=\"304\"} 1",
        "roster_http_requests_total{route=\"profile\",method=\"GET\",status=\"200\"} 2",
        "roster_http_requests_total{route=\"profile\",method=\"GET\",status=\"400\"} 1",
        "roster_http_requests_total{route=\"reload\",method=\"OPTIONS\",status=\"204\"} 1",
        "roster_http_requests_total{route=\"reload\",method=\"POST\",status=\"202\"} 2",
        "roster_http_requests_total{route=\"metrics\",method=\"GET\",status=\"200\"} 1"};
    expect_samples(&ex, "roster_http_requests_total", reqs, sizeof(reqs) / sizeof(reqs[0]));
    /* buckets are cumulative, a value on a bound counts in that bucket */
    static const char *const profile[] = {
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.0001\"} 1",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.00025\"} 2",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.0005\"} 2",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.001\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.0025\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.005\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.01\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.025\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.05\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.1\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.25\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"0.5\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"1\"} 3",
        "roster_http_request_duration_seconds_bucket{route=\"profile\",le=\"+Inf\"} 3",
        "roster_http_request_duration_seconds_sum{route=\"profile\"} 0.001250",
        "roster_http_request_duration_seconds_count{route=\"profile\"} 3"};
    expect_samples(&ex, "roster_http_request_duration_seconds_bucket{route=\"profile\"", profile,
                   14);
    expect_samples(&ex, "roster_http_request_duration_seconds_sum{route=\"profile\"", profile + 14,
                   1);
    expect_samples(&ex, "roster_http_request_duration_seconds_count{route=\"profile\"",
                   profile + 15, 1);
    /* over the last bound: only +Inf */
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_bucket{route=\"unknown\","
                                "le=\"1\"}"),
                     "1");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_bucket{route=\"unknown\","
                                "le=\"+Inf\"}"),
                     "2");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_sum{route=\"unknown\"}"),
                     "2.500000");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_bucket{route=\"reload\","
                                "le=\"0.0001\"}"),
                     "1");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_bucket{route=\"reload\","
                                "le=\"0.0025\"}"),
                     "1");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_bucket{route=\"reload\","
                                "le=\"0.005\"}"),
                     "3");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_sum{route=\"reload\"}"),
                     "0.007000");
    ck_assert_str_eq(value(&ex, "roster_http_request_duration_seconds_count{route=\"metrics\"}"),
                     "1");
    /* routes without requests have no histogram; every histogram is whole */
    size_t buckets = 0, counts = 0;
    for (size_t i = 0; i < ex.n; i++) {
        buckets += strncmp(ex.series[i], "roster_http_request_duration_seconds_bucket", 43) == 0;
        counts += strncmp(ex.series[i], "roster_http_request_duration_seconds_count", 42) == 0;
    }
    ck_assert_uint_eq(counts, 5); /* unknown, profiles, profile, reload, metrics */
    ck_assert_uint_eq(buckets, 5 * 14);
    ck_assert_str_eq(value(&ex, "roster_ready"), "1");
    roster_metrics_free(m);
}
END_TEST

START_TEST(reload_counters)
{
    struct roster_metrics *m = roster_metrics_new();
    roster_metrics_reload(m, 1, 1700000000.25);
    roster_metrics_reload(m, 0, 99.0); /* a failure keeps the last success time */
    roster_metrics_reload(m, 0, 0.0);
    roster_metrics_reload(m, 1, 1700000100.5);
    roster_metrics_reload(m, 0, 1800000000.0);
    roster_metrics_dir_failure(m);
    roster_metrics_dir_failure(m);
    render(m, NULL, 0, &ex);
    static const char *const want[] = {"roster_reloads_total{result=\"success\"} 2",
                                       "roster_reloads_total{result=\"failure\"} 3"};
    expect_samples(&ex, "roster_reloads_total", want, 2);
    ck_assert_str_eq(value(&ex, "roster_profiles_dir_failures_total"), "2");
    ck_assert_str_eq(value(&ex, "roster_last_reload_timestamp_seconds"), "1700000100.500");
    roster_metrics_free(m);
}
END_TEST

START_TEST(history_write_counters)
{
    struct roster_metrics *m = roster_metrics_new();
    for (int i = 0; i < 5; i++)
        roster_metrics_history_write(m, i != 2);
    render(m, NULL, 0, &ex);
    ck_assert_str_eq(type_of(&ex, "roster_history_writes_total"), "counter");
    static const char *const want[] = {"roster_history_writes_total{result=\"ok\"} 4",
                                       "roster_history_writes_total{result=\"error\"} 1"};
    expect_samples(&ex, "roster_history_writes_total", want, 2);
    roster_metrics_free(m);
}
END_TEST

START_TEST(profile_states_partition_the_snapshot)
{
    /* tests/fixtures/metrics: gen1 serves a, b and e; in gen2 b is broken
     * (served stale from gen1) and c, d and f are never valid (c's parent
     * is missing, d extends c, f extends d) */
    struct roster_error err;
    struct roster_snapshot *s1 = NULL, *s2 = NULL;
    struct roster_snapshot_opts o = {.dir = fixture("metrics/gen1"), .generation = 4};
    ck_assert_int_eq(roster_snapshot_build(&s1, &o, &err), 0);
    o = (struct roster_snapshot_opts){
        .dir = fixture("metrics/gen2"), .generation = 5, .previous = s1};
    ck_assert_int_eq(roster_snapshot_build(&s2, &o, &err), 0);
    ck_assert_uint_eq(s2->n, 6);
    ck_assert_uint_eq(s2->stale, 1);

    struct roster_metrics *m = roster_metrics_new();
    render(m, s2, 1, &ex);
    static const char *const states[] = {"roster_profiles{state=\"served\"} 2",
                                         "roster_profiles{state=\"invalid\"} 3",
                                         "roster_profiles{state=\"stale\"} 1"};
    expect_samples(&ex, "roster_profiles{", states, 3);
    /* the three states partition the profiles */
    static const char *const series[] = {"roster_profiles{state=\"served\"}",
                                         "roster_profiles{state=\"invalid\"}",
                                         "roster_profiles{state=\"stale\"}"};
    unsigned long sum = 0;
    for (size_t k = 0; k < 3; k++)
        sum += strtoul(value(&ex, series[k]), NULL, 10);
    ck_assert_uint_eq(sum, s2->n);
    ck_assert_str_eq(value(&ex, "roster_snapshot_generation"), "5");
    char want[64];
    snprintf(want, sizeof(want), "%.6f", s2->build_seconds);
    ck_assert_str_eq(value(&ex, "roster_snapshot_build_seconds"), want);
    /* diagnostics by severity, as the snapshot counted them */
    size_t counts[3] = {0, 0, 0};
    size_t i;
    json_t *g;
    json_array_foreach(s2->diag_items, i, g)
    {
        const char *sev = json_string_value(json_object_get(g, "severity"));
        counts[strcmp(sev, "error") == 0 ? 0 : strcmp(sev, "warning") == 0 ? 1 : 2]++;
    }
    /* b's syntax error and the lineage errors of c, d and f; no others */
    ck_assert_uint_eq(counts[0], 4);
    ck_assert_uint_eq(counts[1], 0);
    ck_assert_uint_eq(counts[2], 0);
    static const char *const sev[] = {"error", "warning", "info"};
    for (int k = 0; k < 3; k++) {
        char name[64], v[32];
        snprintf(name, sizeof(name), "roster_diagnostics{severity=\"%s\"}", sev[k]);
        snprintf(v, sizeof(v), "%zu", counts[k]);
        ck_assert_str_eq(value(&ex, name), v);
    }
    /* the first snapshot: all three served */
    render(m, s1, 1, &ex);
    static const char *const fresh[] = {"roster_profiles{state=\"served\"} 3",
                                        "roster_profiles{state=\"invalid\"} 0",
                                        "roster_profiles{state=\"stale\"} 0"};
    expect_samples(&ex, "roster_profiles{", fresh, 3);
    roster_metrics_free(m);
    roster_snapshot_unref(s1);
    roster_snapshot_unref(s2);
}
END_TEST

/* A buffer cap the exposition does not fit in is an error, not a cut. */
START_TEST(render_into_small_buffer_fails)
{
    struct roster_metrics *m = roster_metrics_new();
    struct roster_buf b;
    roster_buf_init(&b, 100);
    ck_assert_int_lt(roster_metrics_render(m, NULL, 1, &b), 0);
    ck_assert_uint_le(b.len, 100);
    roster_buf_release(&b);
    roster_metrics_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, methods);
    tcase_add_test(tc, empty_exposition);
    tcase_add_test(tc, requests_by_route_method_status);
    tcase_add_test(tc, reload_counters);
    tcase_add_test(tc, history_write_counters);
    tcase_add_test(tc, profile_states_partition_the_snapshot);
    tcase_add_test(tc, render_into_small_buffer_fails);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
