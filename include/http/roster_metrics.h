/* Prometheus metrics: lock-free counters updated on the request path and
 * a text exposition built on demand. */
#ifndef ROSTER_METRICS_H
#define ROSTER_METRICS_H

#include <stddef.h>

#include "roster_httpparse.h"

struct roster_buf;
struct roster_snapshot;

enum roster_method {
    ROSTER_M_GET,
    ROSTER_M_HEAD,
    ROSTER_M_OPTIONS,
    ROSTER_M_POST,
    ROSTER_M_DELETE,
    ROSTER_M_OTHER,
    ROSTER_M_COUNT
};

enum roster_method roster_method_of(const char *m);
const char *roster_method_name(enum roster_method m);

struct roster_metrics;

struct roster_metrics *roster_metrics_new(void);
struct roster_metrics *roster_metrics_free(struct roster_metrics *m);
void roster_metrics_request(struct roster_metrics *m, enum roster_route_kind route,
                            enum roster_method method, unsigned status, double seconds);
void roster_metrics_reload(struct roster_metrics *m, int ok, double unix_time);
void roster_metrics_dir_failure(struct roster_metrics *m);
/* A version written to the history store (ok) or not (a write error). */
void roster_metrics_history_write(struct roster_metrics *m, int ok);
/* Appends the exposition; snap may be NULL before the first snapshot. */
int roster_metrics_render(const struct roster_metrics *m, const struct roster_snapshot *snap,
                          int ready, struct roster_buf *out);

#endif
