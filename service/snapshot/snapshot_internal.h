/* Shared between snapshot.c and snapshot_index.c. */
#ifndef ROSTER_SNAPSHOT_INTERNAL_H
#define ROSTER_SNAPSHOT_INTERNAL_H

#include "roster_snapshot.h"

/* The version of what the renderer makes of the same files: part of every
 * lineage digest, so an upgrade that renders differently changes ETags
 * (and is written into every history file). */
#define ROSTER_RENDER_FORMAT "roster-render/2"

struct roster_diags;
struct roster_index;
typedef struct json_t json_t;

/* The snapshot-wide documents: default listing, facets, diagnostics. */
int roster_snapshot_build_indexes(struct roster_snapshot *s, const struct roster_diags *diags);
/* The file stem aliases (s->by_stem) of the files of ix, after the
 * profiles: the map borrows the stems, so ix must live as long as s. */
int roster_snapshot_build_aliases(struct roster_snapshot *s, const struct roster_index *ix);

/* The 64-hex tag of representation `which` of sp (lazy.c): its ETag. */
void roster_sprofile_tag(const struct roster_sprofile *sp, int which, char hex[65]);
/* Sets "digest": "sha256:<the last good lineage digest>" in o (a profile
 * object or a list summary); the same on every machine and generation. */
int roster_sprofile_set_digest(const struct roster_sprofile *sp, json_t *o);
/* A JSON representation of j (compact, newline) with that tag. */
int roster_snapshot_rep_json(struct roster_rep *r, const json_t *j, const char *tag);
/* The cache owns the profile's search text from now on (set once, before
 * the snapshot is published). */
void roster_cache_keep_haystack(struct roster_cache *c, char *haystack);
/* Puts a representation built elsewhere (takes it; fails if one is there). */
int roster_cache_put(struct roster_cache *c, int which, struct roster_rep *rep);

/* The cache of a profile's rendered representations (cache.c). */
typedef int (*roster_cache_build_fn)(void *ctx, int which, struct roster_rep *out);
struct roster_cache *roster_cache_new(void);
/* The template of profile p, made on first use (thread-safe); with p NULL
 * only one set before (ROSTER_ENOENT when there is none). */
struct roster_profile;
struct roster_template;
int roster_cache_template(struct roster_cache *c, const struct roster_profile *p,
                          const struct roster_template **out);

struct roster_cache *roster_cache_ref(struct roster_cache *c);
void roster_cache_unref(struct roster_cache *c);
/* The representation if it was built, else NULL. */
const struct roster_rep *roster_cache_peek(struct roster_cache *c, int which);
/* The representation, built by build(ctx, which, rep) the first time:
 * once, even when several threads ask at the same moment. */
int roster_cache_get(struct roster_cache *c, int which, roster_cache_build_fn build, void *ctx,
                     const struct roster_rep **out);

#endif
