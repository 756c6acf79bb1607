/* A resolved profile with its block trees back (roster_resolve.h): the
 * index keeps sections only, so rendering parses the chain's files again. */
#include "roster_resolve.h"

#include <string.h>

#include "roster_base.h"
#include "roster_doc.h"

static int chain_pos(const struct roster_profile *p, const struct roster_doc *d, size_t *c)
{
    for (*c = 0; *c < p->nchain; (*c)++)
        if (p->chain[*c] == d)
            return 0;
    return ROSTER_EINVAL;
}

int roster_profile_expand(const struct roster_profile *p, struct roster_expanded *x)
{
    memset(x, 0, sizeof(*x));
    x->profile = *p;
    int lean = 0;
    for (size_t c = 0; c < p->nchain; c++)
        lean |= !p->chain[c]->has_blocks;
    if (!lean)
        return 0; /* the docs kept their trees */
    x->arenas = roster_calloc(p->nchain ? p->nchain : 1, sizeof(*x->arenas));
    x->mds = roster_calloc(p->nchain ? p->nchain : 1, sizeof(*x->mds));
    x->secs = roster_calloc(p->nsecs ? p->nsecs : 1, sizeof(*x->secs));
    x->n = p->nchain;
    int r = x->arenas && x->mds && x->secs ? 0 : ROSTER_ENOMEM;
    for (size_t c = 0; c < p->nchain && r == 0; c++)
        r = roster_doc_blocks(p->chain[c], &x->arenas[c], &x->mds[c]);
    for (size_t k = 0; k < p->nsecs && r == 0; k++) {
        const struct roster_secref *s = &p->secs[k];
        size_t c, i = (size_t)(s->sec - s->doc->md.sections);
        r = chain_pos(p, s->doc, &c);
        if (r == 0 && i >= x->mds[c].nsections)
            r = ROSTER_EINVAL;
        if (r == 0)
            x->secs[k] = (struct roster_secref){.doc = s->doc, .sec = &x->mds[c].sections[i]};
    }
    x->profile.secs = x->secs;
    if (r < 0)
        roster_expanded_release(x);
    return r;
}

void roster_expanded_release(struct roster_expanded *x)
{
    for (size_t c = 0; x->arenas && c < x->n; c++)
        roster_arena_free(x->arenas[c]);
    roster_free(x->arenas);
    roster_free(x->mds);
    roster_free(x->secs);
    memset(x, 0, sizeof(*x));
}
