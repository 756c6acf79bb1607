/* Reloading. A reload builds a whole new snapshot (the previous one
 * supplies last-known-good versions), compares it with the one in
 * service, and swaps it in only when something changed. File events are
 * debounced; events that arrive while a build runs make the build stale,
 * so a snapshot never mixes files from before and after a ..data swap. */
#include "roster_reload.h"

#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "roster_base.h"
#include "roster_events.h"
#include "roster_scan.h"
#include "roster_snapshot.h"
#include "roster_watch.h"

#define MAX_STALE_BUILDS 3

struct roster_reloader {
    struct roster_reload_opts opts;
    struct roster_reload_hooks hooks;
    int attached; /* publish new snapshots */
    struct roster_snapshot *current; /* our reference */
    struct roster_watch *watch;
    struct roster_events *events;
    uint64_t generation;
    double due; /* monotonic time a debounced reload is due, 0: none */
    double first_event; /* first file event of the current burst, 0: none */
    double next_rescan;
    const char *reason;
    int dir_failing;
    /* the first snapshot, built on a thread of its own while the server
     * already listens (roster_reloader_start) */
    struct roster_progress progress;
    pthread_t starter;
    int starting; /* the thread runs (or ran and was not joined yet) */
    _Atomic int started; /* it is done: first, first_rc, first_why are set */
    struct roster_snapshot *first;
    int first_rc;
    char first_why[512];
    int failed; /* the first build failed: the server cannot start */
    _Atomic int cancel; /* shutting down: the first build gives up */
    int events_while_starting;
};

int roster_reloader_new(struct roster_reloader **out, const struct roster_reload_opts *opts,
                        const struct roster_reload_hooks *hooks, char *why, size_t why_cap)
{
    struct roster_reloader *rl = roster_calloc(1, sizeof(*rl));
    if (!rl) {
        snprintf(why, why_cap, "out of memory");
        return ROSTER_ENOMEM;
    }
    rl->opts = *opts;
    rl->hooks = *hooks;
    rl->generation = 1;
    /* an unusable directory fails now, before anything listens */
    struct stat st;
    int sr = stat(opts->dir, &st);
    if (sr < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, why_cap, "profiles directory %s: %s", opts->dir,
                 sr < 0 ? strerror(errno) : "not a directory");
        roster_free(rl);
        return ROSTER_ENOENT;
    }
    rl->events = roster_events_new(1024);
    if (!rl->events) {
        snprintf(why, why_cap, "out of memory");
        roster_reloader_free(rl);
        return ROSTER_ENOMEM;
    }
    if (opts->watch && roster_watch_new(&rl->watch, opts->dir, why, why_cap) < 0) {
        roster_reloader_free(rl);
        return ROSTER_EIO;
    }
    if (opts->rescan_interval)
        rl->next_rescan = roster_now_mono() + opts->rescan_interval;
    *out = rl;
    return 0;
}

struct roster_events *roster_reloader_events(struct roster_reloader *rl)
{
    return rl->events;
}

void roster_reloader_attach(struct roster_reloader *rl)
{
    rl->attached = 1;
    if (rl->current)
        rl->hooks.publish(rl->hooks.ctx, rl->current);
}

static void report(struct roster_reloader *rl, const struct roster_reload_report *r)
{
    if (rl->hooks.report)
        rl->hooks.report(rl->hooks.ctx, r);
}

/* How every snapshot of this reloader is built. */
static struct roster_snapshot_opts build_opts(struct roster_reloader *rl, uint64_t generation)
{
    return (struct roster_snapshot_opts){.dir = rl->opts.dir,
                                         .strict_markdown = rl->opts.strict_markdown,
                                         .prerender = rl->opts.prerender,
                                         .index_threads = rl->opts.index_threads,
                                         .generation = generation,
                                         .previous = rl->current};
}

static void *build_first(void *arg)
{
    struct roster_reloader *rl = arg;
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot_opts so = build_opts(rl, 1);
    so.progress = &rl->progress;
    so.cancel = &rl->cancel;
    rl->first_rc = roster_snapshot_build(&rl->first, &so, &err);
    if (rl->first_rc < 0)
        snprintf(rl->first_why, sizeof(rl->first_why), "%s", err.msg);
    atomic_store(&rl->started, 1);
    return NULL;
}

int roster_reloader_start(struct roster_reloader *rl)
{
    if (rl->current || rl->starting)
        return 0;
    if (pthread_create(&rl->starter, NULL, build_first, rl) != 0) {
        build_first(rl); /* no thread: build here; the next poll serves it */
        return 0;
    }
    rl->starting = 1;
    return 0;
}

const struct roster_progress *roster_reloader_progress(struct roster_reloader *rl)
{
    return &rl->progress;
}

int roster_reloader_failed(struct roster_reloader *rl)
{
    return rl->failed;
}

/* The first snapshot is built: serve it (or report why not). */
static void first_done(struct roster_reloader *rl, double now)
{
    if (rl->starting)
        pthread_join(rl->starter, NULL);
    rl->starting = 0;
    struct roster_reload_report rep = {.reason = "start", .generation = 1};
    if (rl->first_rc < 0) {
        rl->failed = 1;
        rep.outcome = ROSTER_RELOAD_FAILED;
        rep.error = rl->first_why;
        report(rl, &rep);
        return;
    }
    rl->current = rl->first;
    rl->first = NULL;
    malloc_trim(0); /* see reload() */
    if (rl->attached)
        rl->hooks.publish(rl->hooks.ctx, rl->current);
    rep.outcome = ROSTER_RELOAD_STARTED;
    rep.seconds = rl->current->build_seconds;
    report(rl, &rep);
    if (rl->events_while_starting && !rl->due) /* files changed during the build */
        rl->due = now + rl->opts.debounce_ms / 1000.0;
}

void roster_reloader_detach(struct roster_reloader *rl)
{
    rl->attached = 0;
    if (rl->events)
        roster_events_close(rl->events);
}

const struct roster_snapshot *roster_reloader_current(struct roster_reloader *rl)
{
    return rl->current;
}

void roster_reloader_request(struct roster_reloader *rl, const char *reason)
{
    rl->reason = reason;
    rl->due = roster_now_mono();
}

static void reload(struct roster_reloader *rl)
{
    double t0 = roster_now_mono();
    const char *reason = rl->reason ? rl->reason : "files";
    rl->reason = NULL;
    struct roster_snapshot *next = NULL;
    int stale_builds = 0;
    for (;;) {
        struct roster_error err;
        roster_error_clear(&err);
        struct roster_snapshot_opts so = build_opts(rl, rl->generation + 1);
        if (rl->watch)
            roster_watch_drain(rl->watch);
        int r = roster_snapshot_build(&next, &so, &err);
        if (r < 0) {
            /* the directory vanished or is unreadable: keep serving */
            struct roster_reload_report rep = {.outcome = ROSTER_RELOAD_FAILED,
                                               .reason = reason,
                                               .error = err.msg,
                                               .generation = rl->generation};
            report(rl, &rep);
            rl->dir_failing = 1;
            return;
        }
        /* Files changed while we read them: build again from a settled tree. */
        if (rl->watch && roster_watch_pending(rl->watch) && stale_builds < MAX_STALE_BUILDS) {
            stale_builds++;
            roster_snapshot_unref(next);
            next = NULL;
            struct timespec d = {.tv_nsec = (long)rl->opts.debounce_ms * 1000000L};
            nanosleep(&d, NULL);
            continue;
        }
        break;
    }
    struct roster_diff d;
    roster_snapshot_diff(rl->current, next, &d);
    double dt = roster_now_mono() - t0;
    struct roster_reload_report rep = {.reason = reason, .generation = rl->generation};
    if (rl->dir_failing) {
        rl->dir_failing = 0;
        rep.outcome = ROSTER_RELOAD_RECOVERED;
        report(rl, &rep);
    }
    if (!d.added && !d.changed && !d.removed && !d.invalid) {
        roster_snapshot_unref(next);
        rep.outcome = ROSTER_RELOAD_UNCHANGED;
        report(rl, &rep);
        return;
    }
    rl->generation++;
    if (rl->attached)
        rl->hooks.publish(rl->hooks.ctx, next);
    struct roster_snapshot *old = rl->current;
    rl->current = next;
    roster_events_publish_diff(rl->events, old, next);
    roster_snapshot_unref(old);
    rep.outcome = ROSTER_RELOAD_SWAPPED;
    rep.generation = rl->generation;
    rep.diff = d;
    rep.invalid_files = next->n - next->served + next->stale;
    rep.stale = next->stale;
    rep.seconds = dt;
    report(rl, &rep);
    /* a build allocates and frees several times what the snapshot keeps:
     * give the freed pages back instead of keeping the build's peak */
    malloc_trim(0);
}

void roster_reloader_poll(struct roster_reloader *rl)
{
    double now = roster_now_mono();
    if (!rl->current) {
        if (rl->watch && roster_watch_read(rl->watch) > 0)
            rl->events_while_starting = 1;
        if (atomic_load(&rl->started) && !rl->failed)
            first_done(rl, now);
        if (!rl->current) /* nothing to reload yet */
            return;
    }
    if (rl->watch && roster_watch_read(rl->watch) > 0) {
        /* debounce: every event pushes the reload back, but a burst that
         * never ends still reloads after max(1 s, 5 x debounce) */
        double debounce = rl->opts.debounce_ms / 1000.0;
        double cap = debounce * 5 > 1.0 ? debounce * 5 : 1.0;
        if (!rl->first_event)
            rl->first_event = now;
        rl->due = now + debounce;
        if (rl->due > rl->first_event + cap)
            rl->due = rl->first_event + cap;
        if (!rl->reason)
            rl->reason = "files";
    }
    if (rl->opts.rescan_interval && now >= rl->next_rescan) {
        rl->next_rescan = now + rl->opts.rescan_interval;
        if (!rl->due) {
            rl->due = now;
            rl->reason = "rescan";
        }
    }
    if (rl->due && now >= rl->due) {
        rl->due = 0;
        rl->first_event = 0;
        reload(rl);
    }
    if (rl->events)
        roster_events_tick(rl->events);
}

int roster_reloader_fd(const struct roster_reloader *rl)
{
    return rl->watch ? roster_watch_fd(rl->watch) : -1;
}

int roster_reloader_timeout_ms(const struct roster_reloader *rl, int max_ms)
{
    if (!rl->current && !rl->failed)
        return max_ms < 2 ? max_ms : 2; /* publish the first snapshot promptly */
    if (!rl->due)
        return max_ms;
    double ms = (rl->due - roster_now_mono()) * 1000.0;
    if (ms <= 0)
        return 0;
    return ms < max_ms ? (int)ms + 1 : max_ms;
}

void roster_reloader_free(struct roster_reloader *rl)
{
    if (!rl)
        return;
    if (rl->starting) { /* a stop during start-up: the build gives up, then is dropped */
        atomic_store(&rl->cancel, 1);
        pthread_join(rl->starter, NULL);
    }
    roster_snapshot_unref(rl->first);
    roster_watch_free(rl->watch);
    roster_events_free(rl->events);
    roster_snapshot_unref(rl->current);
    roster_free(rl);
}

json_t *roster_reload_report_json(const struct roster_reload_report *r)
{
    if (r->outcome == ROSTER_RELOAD_FAILED)
        return json_pack("{s:s, s:s}", "event", "reload_failed", "error", r->error ? r->error : "");
    if (r->outcome != ROSTER_RELOAD_SWAPPED)
        return NULL;
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "event", "reload", "generation",
                     (json_int_t)r->generation, "added", (json_int_t)r->diff.added, "changed",
                     (json_int_t)r->diff.changed, "removed", (json_int_t)r->diff.removed);
}
