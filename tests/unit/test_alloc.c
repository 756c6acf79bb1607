/* Allocation failure at every allocation site along the index build and
 * the request path: an error or a 503, never a crash (the sanitizer and
 * valgrind runs also prove no leak on any of these paths). */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
    struct roster_snapshot_opts o = {.dir = dir, .generation = 1};
    return roster_snapshot_build(out, &o, &err);
}

/* Fails allocation n (alone, or n and every later one) for every n up to
 * the count a successful build needs, stepping by `stride`. */
static void sweep(const char *dir, long stride)
{
    struct roster_snapshot *s = NULL;
    roster_alloc_fail_at(0, 0);
    ck_assert_int_eq(build(dir, &s), 0);
    long total = roster_alloc_count();
    roster_snapshot_unref(s);
    ck_assert_int_gt(total, 10);
    for (int sticky = 0; sticky < 2; sticky++) {
        for (long n = 1; n <= total; n += stride) {
            s = NULL;
            roster_alloc_fail_at(n, sticky);
            int r = build(dir, &s);
            roster_alloc_fail_at(0, 0);
            if (r == 0)
                roster_snapshot_unref(s); /* a failure the build tolerated */
            else
                ck_assert_ptr_null(s);
        }
    }
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

/* One GET over a fresh connection; returns the status, 0 when closed. */
static int get(unsigned port, const char *target)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[512], resp[64] = {0};
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                     "Connection: close\r\n\r\n",
                     target);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    ssize_t got = read(fd, resp, sizeof(resp) - 1);
    close(fd);
    if (got < 12)
        return 0;
    return atoi(resp + 9);
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
    for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
        if (only && (size_t)atoi(only) != t)
            continue;
        roster_alloc_fail_at(0, 0);
        int ok_status = get(port, targets[t]);
        ck_assert_int_ne(ok_status, 0);
        for (long n = 1; n <= 60; n++) {
            roster_alloc_fail_at(n, 1);
            int st = get(port, targets[t]);
            roster_alloc_fail_at(0, 0);
            ck_assert_msg(st == 0 || st == ok_status || st == 503,
                          "%s with allocation %ld failing: status %d", targets[t], n, st);
        }
        /* and the server is fine afterwards */
        ck_assert_int_eq(get(port, targets[t]), ok_status);
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
