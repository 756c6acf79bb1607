/* Shared between snapshot.c and snapshot_index.c. */
#ifndef ROSTER_SNAPSHOT_INTERNAL_H
#define ROSTER_SNAPSHOT_INTERNAL_H

#include "roster_snapshot.h"

struct roster_diags;

/* The snapshot-wide documents: default listing, facets, diagnostics. */
int roster_snapshot_build_indexes(struct roster_snapshot *s, const struct roster_diags *diags);

#endif
