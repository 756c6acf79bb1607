/* The snapshot: every representation of every profile, rendered once,
 * immutable after build, reference counted so a new one can be swapped in
 * while requests still use the old one. */
#ifndef ROSTER_SNAPSHOT_H
#define ROSTER_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "roster_render.h"

struct roster_diags;
struct roster_error;
struct roster_map;
typedef struct json_t json_t;

/* One prebuilt body with its gzip variant and strong ETags. */
struct roster_rep {
    char *body;
    size_t len;
    char *gz; /* NULL when gzip would not be smaller */
    size_t gz_len;
    char etag[96]; /* quoted */
    char etag_gz[100];
    const char *ctype;
};

struct roster_sprofile {
    char *id;
    int ok; /* served; 0: invalid (404 with diagnostics) */
    int stale; /* served from the last good version */
    char *file; /* relative path */
    char *source_sha256; /* of the file as written */
    json_t *profile; /* ok: the profile object (read-only) */
    json_t *summary; /* ok: the list summary (read-only) */
    json_t *diagnostics; /* this profile's diagnostics (array) */
    char *haystack; /* lower-cased search text */
    char **parents; /* direct parent ids */
    size_t nparents;
    struct roster_rep reps[ROSTER_VIEW_COUNT];
    struct roster_rep prompt_json;
};

struct roster_snapshot {
    uint64_t generation;
    double build_seconds;
    double built_at; /* unix time */
    struct roster_sprofile *profiles; /* sorted by id */
    size_t n;
    size_t served;
    size_t invalid;
    size_t stale;
    struct roster_map *by_id;
    struct roster_rep list_default; /* GET /v1/profiles with no parameters */
    struct roster_rep facets;
    struct roster_rep diagnostics; /* all diagnostics */
    struct roster_rep diagnostics_sev[3]; /* filtered by severity */
    json_t *diag_items; /* array of all diagnostics */
    size_t diag_counts[3];
    _Atomic long refs;
};

struct roster_snapshot_opts {
    const char *dir;
    int strict_markdown;
    uint64_t generation;
    const struct roster_snapshot *previous; /* last good versions, or NULL */
};

/* Builds a snapshot of dir. Fails only when the directory cannot be read
 * or memory runs out; broken profiles are part of the snapshot. */
int roster_snapshot_build(struct roster_snapshot **out, const struct roster_snapshot_opts *opts,
                          struct roster_error *err);
struct roster_snapshot *roster_snapshot_ref(struct roster_snapshot *s);
void roster_snapshot_unref(struct roster_snapshot *s);

const struct roster_sprofile *roster_snapshot_find(const struct roster_snapshot *s, const char *id,
                                                   size_t len);

/* Fills a rep from bytes it takes ownership of (gzip and ETags computed). */
int roster_rep_init(struct roster_rep *r, char *body, size_t len, const char *ctype,
                    uint64_t generation);
/* Frees the bytes and zeroes r (r itself is the caller's). */
void roster_rep_release(struct roster_rep *r);

#endif
