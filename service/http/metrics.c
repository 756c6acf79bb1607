/* Metrics counters and their Prometheus text exposition. */
#include "roster_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_snapshot.h"
#include "roster_version.h"

static const unsigned STATUSES[] = {200, 202, 204, 304, 308, 400, 401, 403, 404,
                                    405, 406, 413, 414, 415, 422, 431, 500, 503};
#define NSTATUS (sizeof(STATUSES) / sizeof(STATUSES[0]) + 1) /* + "other" */
static const double BUCKETS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,    0.1,    0.25,  0.5,    1.0};
#define NBUCKET (sizeof(BUCKETS) / sizeof(BUCKETS[0]))

struct roster_metrics {
    atomic_ullong requests[ROSTER_ROUTE_COUNT][ROSTER_M_COUNT][NSTATUS];
    atomic_ullong buckets[ROSTER_ROUTE_COUNT][NBUCKET + 1];
    atomic_ullong sum_us[ROSTER_ROUTE_COUNT];
    atomic_ullong reloads_ok, reloads_failed, dir_failures;
    atomic_ullong history_ok, history_failed;
    _Atomic double last_reload;
};

static const char *const METHODS[ROSTER_M_COUNT] = {"GET",  "HEAD",   "OPTIONS",
                                                    "POST", "DELETE", "other"};

enum roster_method roster_method_of(const char *m)
{
    for (int i = 0; i < ROSTER_M_OTHER; i++)
        if (strcmp(m, METHODS[i]) == 0)
            return (enum roster_method)i;
    return ROSTER_M_OTHER;
}

const char *roster_method_name(enum roster_method m)
{
    return METHODS[m < ROSTER_M_COUNT ? m : ROSTER_M_OTHER];
}

struct roster_metrics *roster_metrics_new(void)
{
    return roster_calloc(1, sizeof(struct roster_metrics));
}

struct roster_metrics *roster_metrics_free(struct roster_metrics *m)
{
    roster_free(m);
    return NULL;
}

static size_t status_index(unsigned status)
{
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (STATUSES[i] == status)
            return i;
    return NSTATUS - 1;
}

void roster_metrics_request(struct roster_metrics *m, enum roster_route_kind route,
                            enum roster_method method, unsigned status, double seconds)
{
    if (route >= ROSTER_ROUTE_COUNT)
        route = ROSTER_ROUTE_NOT_FOUND;
    if (route == ROSTER_ROUTE_BAD_ID)
        route = ROSTER_ROUTE_PROFILE; /* one series per route label */
    atomic_fetch_add_explicit(&m->requests[route][method][status_index(status)], 1,
                              memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKET && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[route], (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
}

void roster_metrics_reload(struct roster_metrics *m, int ok, double unix_time)
{
    atomic_fetch_add(ok ? &m->reloads_ok : &m->reloads_failed, 1);
    if (ok)
        atomic_store(&m->last_reload, unix_time);
}

void roster_metrics_dir_failure(struct roster_metrics *m)
{
    atomic_fetch_add(&m->dir_failures, 1);
}

void roster_metrics_history_write(struct roster_metrics *m, int ok)
{
    atomic_fetch_add(ok ? &m->history_ok : &m->history_failed, 1);
}

static int render_requests(const struct roster_metrics *m, struct roster_buf *o)
{
    int r = roster_buf_puts(o, "# HELP roster_http_requests_total HTTP requests answered.\n"
                               "# TYPE roster_http_requests_total counter\n");
    for (int rt = 0; rt < ROSTER_ROUTE_COUNT && r == 0; rt++)
        for (int me = 0; me < ROSTER_M_COUNT && r == 0; me++)
            for (size_t s = 0; s < NSTATUS && r == 0; s++) {
                unsigned long long v = atomic_load(&m->requests[rt][me][s]);
                if (!v)
                    continue;
                char st[16];
                if (s < NSTATUS - 1)
                    snprintf(st, sizeof(st), "%u", STATUSES[s]);
                else
                    snprintf(st, sizeof(st), "other");
                r = roster_buf_printf(o,
                                      "roster_http_requests_total{route=\"%s\",method=\"%s\","
                                      "status=\"%s\"} %llu\n",
                                      roster_route_name((enum roster_route_kind)rt), METHODS[me],
                                      st, v);
            }
    r = r ? r
          : roster_buf_puts(o, "# HELP roster_http_request_duration_seconds Time to answer a "
                               "request.\n# TYPE roster_http_request_duration_seconds histogram\n");
    for (int rt = 0; rt < ROSTER_ROUTE_COUNT && r == 0; rt++) {
        unsigned long long cum = 0;
        for (size_t b = 0; b <= NBUCKET; b++)
            cum += atomic_load(&m->buckets[rt][b]);
        if (!cum)
            continue;
        const char *name = roster_route_name((enum roster_route_kind)rt);
        cum = 0;
        for (size_t b = 0; b <= NBUCKET && r == 0; b++) {
            cum += atomic_load(&m->buckets[rt][b]);
            if (b < NBUCKET)
                r = roster_buf_printf(o,
                                      "roster_http_request_duration_seconds_bucket{route=\"%s\","
                                      "le=\"%g\"} %llu\n",
                                      name, BUCKETS[b], cum);
            else
                r = roster_buf_printf(o,
                                      "roster_http_request_duration_seconds_bucket{route=\"%s\","
                                      "le=\"+Inf\"} %llu\n",
                                      name, cum);
        }
        r = r ? r
              : roster_buf_printf(o,
                                  "roster_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                                  "roster_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                                  name, (double)atomic_load(&m->sum_us[rt]) / 1e6, name, cum);
    }
    return r;
}

int roster_metrics_render(const struct roster_metrics *m, const struct roster_snapshot *s,
                          int ready, struct roster_buf *o)
{
    int r = render_requests(m, o);
    /* the three states partition the profiles: served from the current
     * file, served stale from the last good version, not served */
    size_t served = s ? s->served - s->stale : 0, stale = s ? s->stale : 0;
    size_t invalid = s ? s->invalid : 0;
    r = r ? r
          : roster_buf_printf(
                o,
                "# HELP roster_profiles Profiles in the snapshot by state.\n"
                "# TYPE roster_profiles gauge\n"
                "roster_profiles{state=\"served\"} %zu\n"
                "roster_profiles{state=\"invalid\"} %zu\n"
                "roster_profiles{state=\"stale\"} %zu\n"
                "# HELP roster_snapshot_generation Generation of the snapshot in service.\n"
                "# TYPE roster_snapshot_generation gauge\n"
                "roster_snapshot_generation %llu\n"
                "# HELP roster_snapshot_build_seconds Time to build the snapshot in service.\n"
                "# TYPE roster_snapshot_build_seconds gauge\n"
                "roster_snapshot_build_seconds %.6f\n"
                "# HELP roster_representations_rendered_total Profile representations rendered "
                "(on first request, or at build with --prerender).\n"
                "# TYPE roster_representations_rendered_total counter\n"
                "roster_representations_rendered_total %llu\n",
                served, invalid, stale, s ? (unsigned long long)s->generation : 0ULL,
                s ? s->build_seconds : 0.0, roster_snapshot_renders());
    r = r ? r
          : roster_buf_printf(
                o,
                "# HELP roster_diagnostics Diagnostics of the snapshot by severity.\n"
                "# TYPE roster_diagnostics gauge\n"
                "roster_diagnostics{severity=\"error\"} %zu\n"
                "roster_diagnostics{severity=\"warning\"} %zu\n"
                "roster_diagnostics{severity=\"info\"} %zu\n"
                "# HELP roster_reloads_total Snapshot reloads by result.\n"
                "# TYPE roster_reloads_total counter\n"
                "roster_reloads_total{result=\"success\"} %llu\n"
                "roster_reloads_total{result=\"failure\"} %llu\n"
                "# HELP roster_history_writes_total Versions written to the history store "
                "(--history-dir) by result.\n"
                "# TYPE roster_history_writes_total counter\n"
                "roster_history_writes_total{result=\"ok\"} %llu\n"
                "roster_history_writes_total{result=\"error\"} %llu\n"
                "# HELP roster_profiles_dir_failures_total Times the profiles directory could "
                "not be read.\n"
                "# TYPE roster_profiles_dir_failures_total counter\n"
                "roster_profiles_dir_failures_total %llu\n"
                "# HELP roster_last_reload_timestamp_seconds Unix time of the last successful "
                "reload.\n"
                "# TYPE roster_last_reload_timestamp_seconds gauge\n"
                "roster_last_reload_timestamp_seconds %.3f\n"
                "# HELP roster_ready 1 when the server is ready for traffic.\n"
                "# TYPE roster_ready gauge\n"
                "roster_ready %d\n"
                "# HELP roster_build_info Build information.\n"
                "# TYPE roster_build_info gauge\n"
                "roster_build_info{version=\"%s\",revision=\"%s\"} 1\n",
                s ? s->diag_counts[0] : 0, s ? s->diag_counts[1] : 0, s ? s->diag_counts[2] : 0,
                atomic_load(&m->reloads_ok), atomic_load(&m->reloads_failed),
                atomic_load(&m->history_ok), atomic_load(&m->history_failed),
                atomic_load(&m->dir_failures), (double)atomic_load(&m->last_reload), ready ? 1 : 0,
                ROSTER_VERSION, ROSTER_REVISION);
    return r;
}
