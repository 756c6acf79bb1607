/* Live reload: builds new snapshots off the request path when the
 * profiles change (inotify, SIGHUP, admin request, periodic rescan) and
 * swaps them into the server. Runs on the serve loop's thread. */
#ifndef ROSTER_RELOAD_H
#define ROSTER_RELOAD_H

#include <stddef.h>

struct roster_events;
struct roster_metrics;
struct roster_server;
struct roster_snapshot;
struct roster_reloader;

struct roster_reload_opts {
    const char *dir;
    int strict_markdown;
    int watch; /* inotify */
    unsigned debounce_ms;
    unsigned rescan_interval; /* seconds, 0: off */
};

/* Builds the first snapshot; fails (why) when the directory is unusable. */
int roster_reloader_new(struct roster_reloader **out, const struct roster_reload_opts *opts,
                        struct roster_metrics *metrics, char *why, size_t why_cap);
struct roster_events *roster_reloader_events(struct roster_reloader *rl);
/* Installs the current snapshot into srv; later reloads swap into it. */
void roster_reloader_attach(struct roster_reloader *rl, struct roster_server *srv);
void roster_reloader_detach(struct roster_reloader *rl);
const struct roster_snapshot *roster_reloader_current(struct roster_reloader *rl);
/* Asks for a reload at the next poll (reason is logged). */
void roster_reloader_request(struct roster_reloader *rl, const char *reason);
/* Reads file events, runs due reloads. Never blocks for long. */
void roster_reloader_poll(struct roster_reloader *rl);
void roster_reloader_free(struct roster_reloader *rl);

#endif
