/* Shared between resolve.c and merge.c. */
#ifndef ROSTER_RESOLVE_INTERNAL_H
#define ROSTER_RESOLVE_INTERNAL_H

#include "roster_resolve.h"

/* Builds p's chain, merged front matter, resolved sections and prompt.
 * p->parents is set and every parent is already merged. */
int roster_merge_profile(struct roster_resolution *res, struct roster_profile *p);
/* The same, taking the merged front matter, sections and prompt spans of
 * `old` (the previous resolution of the same doc) when p's chain is the
 * same documents: they are made of those documents only. */
int roster_merge_profile_from(struct roster_resolution *res, struct roster_profile *p,
                              const struct roster_profile *old);

#endif
