/* Live reload: builds new snapshots off the request path when the
 * profiles change (inotify, SIGHUP, admin request, periodic rescan) and
 * hands them to whoever serves them (hooks: the app wires them to the HTTP
 * server, its metrics and its log; this module neither serves nor logs).
 * Runs on the serve loop's thread. */
#ifndef ROSTER_RELOAD_H
#define ROSTER_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "roster_events.h"

struct roster_progress;
struct roster_snapshot;
typedef struct json_t json_t;
struct roster_reloader;

enum roster_reload_outcome {
    ROSTER_RELOAD_FAILED, /* the directory is unusable: the last snapshot stays */
    ROSTER_RELOAD_RECOVERED, /* the directory is readable again (then one of the next two) */
    ROSTER_RELOAD_UNCHANGED, /* nothing served changed: no new generation */
    ROSTER_RELOAD_SWAPPED, /* a new generation is served */
    ROSTER_RELOAD_STARTED, /* the first snapshot is built and served */
};

/* What one reload did, for the app's log and metrics. Pointers are
 * borrowed for the duration of the hook. */
struct roster_reload_report {
    enum roster_reload_outcome outcome;
    const char *reason; /* "files", "sighup", "admin", "rescan" */
    const char *error; /* FAILED: why */
    uint64_t generation; /* the generation served after this reload */
    struct roster_diff diff; /* SWAPPED: what changed */
    size_t invalid_files; /* SWAPPED: files with errors (not served or stale) */
    size_t stale; /* SWAPPED */
    double seconds; /* SWAPPED: build time */
};

/* What MCP clients are told of a reload (notifications/message data):
 * {"event":"reload","generation","added","changed","removed"} for SWAPPED,
 * {"event":"reload_failed","error"} for FAILED, NULL otherwise (or without
 * memory). A new reference. */
json_t *roster_reload_report_json(const struct roster_reload_report *r);

struct roster_reload_hooks {
    void *ctx;
    /* Serve this snapshot from now on; takes a reference of its own. */
    void (*publish)(void *ctx, struct roster_snapshot *snap);
    /* What a reload did (may be NULL). */
    void (*report)(void *ctx, const struct roster_reload_report *r);
};

struct roster_reload_opts {
    const char *dir;
    int strict_markdown;
    int prerender; /* render every representation when a snapshot is built */
    unsigned index_threads; /* parsing threads; 0: one per core */
    int watch; /* inotify */
    unsigned debounce_ms;
    unsigned rescan_interval; /* seconds, 0: off */
};

/* Sets up watching; fails (why) when the directory is unusable. Builds
 * nothing yet: roster_reloader_start does, on a thread, so the server can
 * listen meanwhile (polls publish the snapshot once it is built). */
int roster_reloader_new(struct roster_reloader **out, const struct roster_reload_opts *opts,
                        const struct roster_reload_hooks *hooks, char *why, size_t why_cap);
int roster_reloader_start(struct roster_reloader *rl);
/* How far the first build is (for /ready while starting). */
const struct roster_progress *roster_reloader_progress(struct roster_reloader *rl);
/* 1 when the first build failed (reported as FAILED with reason "start"). */
int roster_reloader_failed(struct roster_reloader *rl);
struct roster_events *roster_reloader_events(struct roster_reloader *rl);
/* Publishes the current snapshot (hooks.publish); later reloads publish
 * theirs, until detach (which also ends the event streams). */
void roster_reloader_attach(struct roster_reloader *rl);
void roster_reloader_detach(struct roster_reloader *rl);
const struct roster_snapshot *roster_reloader_current(struct roster_reloader *rl);
/* Asks for a reload at the next poll (reason is logged). */
void roster_reloader_request(struct roster_reloader *rl, const char *reason);
/* Reads file events, runs due reloads. Never blocks for long. */
void roster_reloader_poll(struct roster_reloader *rl);
/* What the serve loop waits on before the next poll: the descriptor that
 * wakes it when files change (-1 without watching), and how long it may
 * sleep at most (ms, capped by max_ms): until a debounced reload is due,
 * or a few ms while the first snapshot builds. */
int roster_reloader_fd(const struct roster_reloader *rl);
int roster_reloader_timeout_ms(const struct roster_reloader *rl, int max_ms);
void roster_reloader_free(struct roster_reloader *rl);

#endif
