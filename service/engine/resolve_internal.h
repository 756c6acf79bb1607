/* Shared between resolve.c and merge.c. */
#ifndef ROSTER_RESOLVE_INTERNAL_H
#define ROSTER_RESOLVE_INTERNAL_H

#include "roster_resolve.h"

/* Builds p's chain, merged front matter, resolved sections and prompt.
 * p->parents is set and every parent is already merged. */
int roster_merge_profile(struct roster_resolution *res, struct roster_profile *p);

#endif
