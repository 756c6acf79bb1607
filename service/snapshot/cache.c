/* The rendered representations of one profile (snapshot_internal.h):
 * filled on first use, once each, then read without locks. Shared by every
 * snapshot in which the profile's lineage digest is the same. */
#include "snapshot_internal.h"

#include <pthread.h>
#include <stdatomic.h>

#include "roster_base.h"
#include "roster_template.h"

struct roster_cache {
    _Atomic long refs;
    pthread_mutex_t lock;
    struct roster_rep *_Atomic reps[ROSTER_REP_COUNT];
    struct roster_template *_Atomic tmpl; /* made on the first POST .../prompt */
    char *haystack;
};

struct roster_cache *roster_cache_new(void)
{
    struct roster_cache *c = roster_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        roster_free(c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    return c;
}

struct roster_cache *roster_cache_ref(struct roster_cache *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void roster_cache_unref(struct roster_cache *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) > 1)
        return;
    for (int k = 0; k < ROSTER_REP_COUNT; k++) {
        struct roster_rep *r = atomic_load(&c->reps[k]);
        if (r) {
            roster_rep_release(r);
            roster_free(r);
        }
    }
    roster_template_free(atomic_load(&c->tmpl));
    pthread_mutex_destroy(&c->lock);
    roster_free(c->haystack);
    roster_free(c);
}

const struct roster_rep *roster_cache_peek(struct roster_cache *c, int which)
{
    return atomic_load_explicit(&c->reps[which], memory_order_acquire);
}

int roster_cache_get(struct roster_cache *c, int which, roster_cache_build_fn build, void *ctx,
                     const struct roster_rep **out)
{
    const struct roster_rep *have = roster_cache_peek(c, which);
    if (have) {
        *out = have;
        return 0;
    }
    int r = 0;
    pthread_mutex_lock(&c->lock);
    have = roster_cache_peek(c, which); /* another first request may have built it */
    if (!have) {
        struct roster_rep *rep = roster_calloc(1, sizeof(*rep));
        r = rep ? build(ctx, which, rep) : ROSTER_ENOMEM;
        if (r == 0) {
            atomic_store_explicit(&c->reps[which], rep, memory_order_release);
            have = rep;
        } else {
            roster_free(rep);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (r == 0)
        *out = have;
    return r;
}

int roster_cache_template(struct roster_cache *c, const struct roster_profile *p,
                          const struct roster_template **out)
{
    const struct roster_template *have = atomic_load_explicit(&c->tmpl, memory_order_acquire);
    char why[300];
    int r = 0;
    if (!have && !p)
        return ROSTER_ENOENT;
    if (!have) {
        pthread_mutex_lock(&c->lock);
        have = atomic_load_explicit(&c->tmpl, memory_order_acquire);
        if (!have) {
            struct roster_template *t = NULL;
            r = roster_template_new(&t, p, why, sizeof(why));
            if (r == 0)
                atomic_store_explicit(&c->tmpl, t, memory_order_release);
            have = t;
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (r == 0)
        *out = have;
    return r;
}

int roster_cache_put(struct roster_cache *c, int which, struct roster_rep *rep)
{
    struct roster_rep *none = NULL;
    return atomic_compare_exchange_strong(&c->reps[which], &none, rep) ? 0 : ROSTER_EINVAL;
}

void roster_cache_keep_haystack(struct roster_cache *c, char *haystack)
{
    c->haystack = haystack;
}
