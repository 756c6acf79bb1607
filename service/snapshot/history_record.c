/* Recording snapshots into the history store (roster_history.h), on a
 * thread of its own: never on a request thread, and never holding up the
 * serve loop (signals, reloads) while a first run writes thousands of
 * versions. Rendering for the store bypasses the snapshot's cache
 * (roster_snapshot_render), so recording every profile does not keep every
 * representation in memory. */
#include "history_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "roster_base.h"
#include "roster_snapshot.h"
#include "snapshot_internal.h"

/* Snapshots waiting at most; a reload that finds the queue full replaces
 * the newest waiting one. */
#define QUEUE_MAX 8

struct roster_history_recorder {
    struct roster_history *h;
    struct roster_history_hooks hooks;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a snapshot was queued, or stop */
    pthread_cond_t idle; /* the queue is empty and no pass runs */
    struct roster_snapshot *queue[QUEUE_MAX];
    size_t nqueue;
    int busy;
    int stop;
    _Atomic int cancel;
    /* the thread's own: the last snapshot recorded (whose versions stop
     * being current when the next one differs), and whether every one of
     * its versions is stored (else the next pass checks them all again) */
    struct roster_snapshot *last;
    int complete;
};

/* The representations a version keeps, in file order. */
static const int PARTS[ROSTER_HISTORY_NPARTS] = {ROSTER_VIEW_PROFILE, ROSTER_VIEW_PROMPT,
                                                 ROSTER_REP_PROMPT_JSON};

/* Renders sp's version and stores it: 1 written, 0 already there,
 * negative when it could not be (reported through the hooks). */
static int record_one(struct roster_history_recorder *rc, const struct roster_snapshot *s,
                      const struct roster_sprofile *sp)
{
    struct roster_rep reps[ROSTER_HISTORY_NPARTS];
    struct roster_history_skips replaced = {0};
    struct roster_error err;
    roster_error_clear(&err);
    memset(reps, 0, sizeof(reps));
    int r = 0;
    for (int k = 0; k < ROSTER_HISTORY_NPARTS && r == 0; k++)
        r = roster_snapshot_render(s, sp, PARTS[k], &reps[k]);
    if (r < 0) {
        roster_error_set(&err, r, sp->file, 0, 0, "cannot render profile %s: out of memory",
                         sp->id);
    } else {
        struct roster_history_record rec = {.id = sp->id,
                                            .digest = sp->good_key,
                                            .first_seen = sp->first_seen,
                                            .renderer = ROSTER_RENDER_FORMAT,
                                            .strict = s->strict_markdown,
                                            .lineage = sp->lineage_files};
        for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++) {
            rec.part[k] = reps[k].body;
            rec.part_len[k] = reps[k].len;
        }
        r = roster_history_write(rc->h, &rec, &replaced, &err);
    }
    for (size_t i = 0; i < replaced.n && rc->hooks.corrupt; i++)
        rc->hooks.corrupt(rc->hooks.ctx, replaced.v[i].file, replaced.v[i].reason);
    if (r != 0 && rc->hooks.write)
        rc->hooks.write(rc->hooks.ctx, sp->id, sp->good_key, r, &err);
    roster_history_skips_release(&replaced);
    for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++)
        roster_rep_release(&reps[k]);
    return r;
}

/* The versions of prev that s no longer serves: their last_seen is now. */
static size_t retire(struct roster_history_recorder *rc, const struct roster_snapshot *prev,
                     const struct roster_snapshot *s)
{
    size_t n = 0;
    for (size_t i = 0; prev && i < prev->n; i++) {
        const struct roster_sprofile *old = &prev->profiles[i];
        if (!old->ok || atomic_load(&rc->cancel))
            continue;
        const struct roster_sprofile *now = roster_snapshot_find(s, old->id, strlen(old->id));
        if (now && now->ok && strcmp(now->good_key, old->good_key) == 0)
            continue;
        struct roster_error err;
        roster_error_clear(&err);
        n += roster_history_touch(rc->h, old->id, old->good_key, &err) == 0;
    }
    return n;
}

/* Records s; takes the caller's reference. */
static void record(struct roster_history_recorder *rc, struct roster_snapshot *s)
{
    double t0 = roster_now_mono();
    const struct roster_snapshot *prev = rc->last;
    size_t written = 0, present = 0, failed = 0;
    int cancelled = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct roster_sprofile *sp = &s->profiles[i];
        if (atomic_load(&rc->cancel)) {
            cancelled = 1;
            break;
        }
        if (!sp->ok || sp->stale)
            continue; /* a stale profile's version was recorded while it was current */
        const struct roster_sprofile *old =
            prev ? roster_snapshot_find(prev, sp->id, strlen(sp->id)) : NULL;
        if (rc->complete && old && old->ok && strcmp(old->good_key, sp->good_key) == 0)
            continue; /* stored by the last pass */
        if (roster_history_present(rc->h, sp->id, sp->good_key)) {
            present++;
            continue;
        }
        int r = record_one(rc, s, sp);
        written += r > 0;
        present += r == 0;
        failed += r < 0;
    }
    size_t retired = cancelled ? 0 : retire(rc, prev, s);
    if (rc->hooks.pass)
        rc->hooks.pass(rc->hooks.ctx, (unsigned long long)s->generation, written, present, failed,
                       retired, roster_now_mono() - t0, cancelled);
    roster_snapshot_unref(rc->last);
    rc->last = s;
    rc->complete = !failed && !cancelled;
}

static void *run(void *arg)
{
    struct roster_history_recorder *rc = arg;
    pthread_mutex_lock(&rc->lock);
    for (;;) {
        while (!rc->stop && rc->nqueue == 0)
            pthread_cond_wait(&rc->work, &rc->lock);
        if (rc->stop)
            break;
        struct roster_snapshot *s = rc->queue[0];
        memmove(rc->queue, rc->queue + 1, (rc->nqueue - 1) * sizeof(rc->queue[0]));
        rc->nqueue--;
        rc->busy = 1;
        pthread_mutex_unlock(&rc->lock);
        record(rc, s);
        pthread_mutex_lock(&rc->lock);
        rc->busy = 0;
        if (rc->nqueue == 0)
            pthread_cond_broadcast(&rc->idle);
    }
    pthread_mutex_unlock(&rc->lock);
    return NULL;
}

int roster_history_recorder_new(struct roster_history_recorder **out, struct roster_history *h,
                                const struct roster_history_hooks *hooks, struct roster_error *err)
{
    struct roster_history_recorder *rc = roster_calloc(1, sizeof(*rc));
    if (!rc)
        return roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
    rc->h = h;
    if (hooks)
        rc->hooks = *hooks;
    pthread_condattr_t ca;
    int ok = pthread_condattr_init(&ca) == 0;
    ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
    int have_lock = ok && pthread_mutex_init(&rc->lock, NULL) == 0;
    int have_work = have_lock && pthread_cond_init(&rc->work, &ca) == 0;
    int have_idle = have_work && pthread_cond_init(&rc->idle, &ca) == 0;
    int have_thread = have_idle && pthread_create(&rc->thread, NULL, run, rc) == 0;
    if (ok)
        pthread_condattr_destroy(&ca);
    if (!have_thread) {
        if (have_idle)
            pthread_cond_destroy(&rc->idle);
        if (have_work)
            pthread_cond_destroy(&rc->work);
        if (have_lock)
            pthread_mutex_destroy(&rc->lock);
        roster_free(rc);
        return roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0,
                                "cannot start the history recorder thread");
    }
    *out = rc;
    return 0;
}

void roster_history_recorder_submit(struct roster_history_recorder *rc,
                                    struct roster_snapshot *snap)
{
    if (!rc || !snap)
        return;
    pthread_mutex_lock(&rc->lock);
    if (!rc->stop) {
        if (rc->nqueue == QUEUE_MAX)
            roster_snapshot_unref(rc->queue[--rc->nqueue]);
        rc->queue[rc->nqueue++] = roster_snapshot_ref(snap);
        pthread_cond_signal(&rc->work);
    }
    pthread_mutex_unlock(&rc->lock);
}

int roster_history_recorder_wait(struct roster_history_recorder *rc, double timeout)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)timeout;
    until.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int r = 0;
    pthread_mutex_lock(&rc->lock);
    while ((rc->nqueue || rc->busy) && r == 0)
        if (pthread_cond_timedwait(&rc->idle, &rc->lock, &until) == ETIMEDOUT)
            r = ROSTER_EBUSY;
    if (r == ROSTER_EBUSY && !rc->nqueue && !rc->busy)
        r = 0;
    pthread_mutex_unlock(&rc->lock);
    return r;
}

void roster_history_recorder_free(struct roster_history_recorder *rc)
{
    if (!rc)
        return;
    pthread_mutex_lock(&rc->lock);
    rc->stop = 1;
    atomic_store(&rc->cancel, 1);
    pthread_cond_broadcast(&rc->work);
    pthread_mutex_unlock(&rc->lock);
    pthread_join(rc->thread, NULL);
    for (size_t i = 0; i < rc->nqueue; i++)
        roster_snapshot_unref(rc->queue[i]);
    roster_snapshot_unref(rc->last);
    pthread_cond_destroy(&rc->idle);
    pthread_cond_destroy(&rc->work);
    pthread_mutex_destroy(&rc->lock);
    roster_free(rc);
}
