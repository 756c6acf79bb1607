/* The snapshot: every profile parsed, resolved and validated at build;
 * each representation rendered on first use (or at build with prerender)
 * and cached, shared with the next snapshot when its lineage is unchanged.
 * Reference counted so a new one can be swapped in while requests still
 * use the old one. */
#ifndef ROSTER_SNAPSHOT_H
#define ROSTER_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "roster_render.h"

struct roster_diags;
struct roster_error;
struct roster_index;
struct roster_map;
struct roster_progress;
struct roster_resolution;
typedef struct json_t json_t;

/* A gzip variant. */
struct roster_gz {
    size_t len;
    char data[];
};

/* One rendered body with strong ETags for it and for its gzip variant,
 * which is compressed on the first request that accepts gzip
 * (roster_rep_gzip) and then kept. */
struct roster_rep {
    char *body;
    size_t len;
    struct roster_gz *_Atomic gz; /* NULL: not yet; else see roster_rep_gzip */
    struct roster_gz *_Atomic jtext; /* NULL: not yet; else roster_rep_json_text's */
    char etag[96]; /* quoted */
    char etag_gz[100];
    const char *ctype;
};

/* The representations of a profile: its views, and the prompt as JSON. */
#define ROSTER_REP_PROMPT_JSON ROSTER_VIEW_COUNT
#define ROSTER_REP_COUNT (ROSTER_VIEW_COUNT + 1)

struct roster_profile;
struct roster_cache; /* rendered representations, shared across snapshots */

struct roster_sprofile {
    char *id;
    int ok; /* served; 0: invalid (404 with diagnostics) */
    int stale; /* served from the last good version */
    char *file; /* relative path */
    char *source_sha256; /* of the file as written */
    json_t *summary; /* ok: the list summary (read-only) */
    json_t *diagnostics; /* this profile's diagnostics (array) */
    const char *haystack; /* lower-cased search text (the cache's: shared while the lineage is) */
    char **parents; /* direct parent ids */
    size_t nparents;
    /* ok: the lineage digest (hex), from which every representation's
     * ETag derives: the same whenever the same files render it */
    char key[65];
    char good_key[65]; /* the digest of the last good version (== key unless stale) */
    const struct roster_profile *resolved; /* ok and not stale: what is rendered */
    json_t *stale_profile; /* stale: the profile object served (read-only) */
    char *stale_warning; /* stale: the Warning header value, naming why (from the diagnostics) */
    struct roster_cache *cache; /* ok: the representations rendered so far */
    struct roster_cache *good_cache; /* stale: the last good one: its template, and the
                                        profile and prompt representations of good_key */
    /* ok: the files of the version good_key, [{"path","sha256"}] root
     * first (read-only), and when this process first served that version
     * (unix time; kept across snapshots while good_key is the same) */
    json_t *lineage_files;
    double first_seen;
};

/* A file stem that is no profile's id: `extends` finds a parent by it, and
 * so does the API (GET /v1/profiles/{stem} redirects to the id). */
#define ROSTER_ALIAS_MAX_CANDIDATES 16
struct roster_alias {
    const struct roster_sprofile *profile; /* the one file with this stem: its profile; else NULL */
    json_t *candidates; /* several files: [{"id","file"}] by path, at most
                           ROSTER_ALIAS_MAX_CANDIDATES (read-only); else NULL */
    size_t nfiles; /* how many files have this stem */
};

struct roster_snapshot {
    uint64_t generation;
    char generation_text[24]; /* the same in decimal: the Roster-Generation header */
    double build_seconds;
    double built_at; /* unix time */
    int strict_markdown; /* built with --strict-markdown (part of every lineage digest) */
    struct roster_sprofile *profiles; /* sorted by id */
    size_t n;
    size_t served;
    size_t invalid;
    size_t stale;
    struct roster_map *by_id;
    struct roster_map *by_stem; /* stem (a valid id, no profile's id) -> its alias */
    struct roster_alias *aliases;
    size_t naliases;
    struct roster_rep list_default; /* GET /v1/profiles with no parameters */
    struct roster_rep facets;
    struct roster_rep diagnostics; /* all diagnostics */
    struct roster_rep diagnostics_sev[3]; /* filtered by severity */
    json_t *diag_items; /* array of all diagnostics */
    size_t diag_counts[3];
    struct roster_index *ix; /* the parsed files: what lazy rendering reads */
    struct roster_resolution *res;
    size_t carried; /* profiles whose rendered representations came from the previous snapshot */
    _Atomic long refs;
};

struct roster_snapshot_opts {
    const char *dir;
    int strict_markdown;
    uint64_t generation;
    const struct roster_snapshot *previous; /* last good versions, or NULL */
    int prerender; /* render every representation now instead of on first use */
    unsigned index_threads; /* parsing threads; 0: one per core */
    struct roster_progress *progress; /* files indexed so far, or NULL */
    const _Atomic int *cancel; /* set: give up soon with ROSTER_ECANCELED (or NULL) */
};

/* Builds a snapshot of dir. Fails only when the directory cannot be read
 * or memory runs out; broken profiles are part of the snapshot. */
int roster_snapshot_build(struct roster_snapshot **out, const struct roster_snapshot_opts *opts,
                          struct roster_error *err);
struct roster_snapshot *roster_snapshot_ref(struct roster_snapshot *s);
void roster_snapshot_unref(struct roster_snapshot *s);

const struct roster_sprofile *roster_snapshot_find(const struct roster_snapshot *s, const char *id,
                                                   size_t len);
/* What `name` stands for as a file stem when no profile has it as its id
 * (roster_snapshot_find found nothing), or NULL: one hashed lookup, built
 * once per snapshot. The alias is s's. */
const struct roster_alias *roster_snapshot_alias(const struct roster_snapshot *s, const char *name,
                                                 size_t len);

/* Representation `which` (a roster_view, or ROSTER_REP_PROMPT_JSON) of a
 * served profile of s: rendered on first use, then kept for the life of
 * every snapshot that shares it. Thread-safe; concurrent first requests
 * build it once. 0, or negative without memory. */
int roster_snapshot_rep(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                        int which, const struct roster_rep **out);
/* Representation `which` (ROSTER_VIEW_PROFILE, ROSTER_VIEW_PROMPT or
 * ROSTER_REP_PROMPT_JSON) of the version good_key of a served profile: the
 * bytes it had while it was current, the ones its digest pins. For a
 * current profile that is roster_snapshot_rep's; a stale one keeps its
 * last good version's. 0; ROSTER_ENOENT (not served, or not kept);
 * ROSTER_ENOMEM. */
int roster_snapshot_version_rep(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                                int which, const struct roster_rep **out);
/* Representation `which` of a served, non-stale profile rendered now into
 * *out (the caller's: roster_rep_release), the same bytes and ETag as
 * roster_snapshot_rep, without filling the cache (a cached one is copied):
 * for work over every profile that requests did not ask for (history
 * recording). 0; ROSTER_EINVAL (stale or not served); ROSTER_ENOMEM. */
int roster_snapshot_render(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                           int which, struct roster_rep *out);
/* The full profile object of a served profile (a new reference; its
 * values may be shared, treat it as read-only), or NULL without memory. */
json_t *roster_snapshot_profile(const struct roster_snapshot *s, const struct roster_sprofile *sp);
/* The template of a served profile (POST .../prompt), made on first use
 * and shared like its representations; a stale profile keeps its last
 * good one. 0; ROSTER_EINVAL (its merged declarations do not hold) or
 * ROSTER_ENOMEM. */
struct roster_template;
int roster_snapshot_template(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                             const struct roster_template **out);
/* View v (ROSTER_VIEW_PROFILE: the whole object) of sp with only the items
 * in scope, made for one request (not cached); NULL without memory. */
json_t *roster_snapshot_scoped(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                               enum roster_view v, enum roster_scope scope);
/* How many representations were rendered since the process started. */
unsigned long long roster_snapshot_renders(void);
/* Renders every representation of every served profile (--prerender). */
int roster_snapshot_prerender(const struct roster_snapshot *s, const _Atomic int *cancel);
/* The quoted strong ETag representation `which` of sp has (gz: its gzip
 * variant), known without rendering it. */
void roster_sprofile_etag(const struct roster_sprofile *sp, int which, int gz, char *out,
                          size_t cap);

/* The 64-hex tag of representation `which` (a roster_view, or
 * ROSTER_REP_PROMPT_JSON) of the version with lineage digest key: its
 * strong ETag is the first 32 digits quoted, wherever the bytes come from
 * (a snapshot's cache or the history store). */
void roster_rep_tag(const char *key, int which, char hex[65]);

/* The body as a JSON string literal (quotes included, escaped as jansson
 * escapes it), made on the first call and then kept like the gzip variant:
 * MCP's resources/read puts a representation's bytes in a JSON string on
 * every request. 0, or ROSTER_ENOMEM. */
int roster_rep_json_text(const struct roster_rep *r, const struct roster_gz **out);
/* The gzip variant of r, compressed now when this is its first use (once,
 * thread-safe): 0 with *out set, 0 with *out NULL when gzip would not be
 * smaller, or ROSTER_ENOMEM. */
int roster_rep_gzip(const struct roster_rep *r, const struct roster_gz **out);
/* Fills a rep from bytes it takes ownership of. The ETag
 * is tag quoted (tag: 32 hex digits), or with tag NULL derived from the
 * bytes: content-addressed either way, never from a generation. */
int roster_rep_init(struct roster_rep *r, char *body, size_t len, const char *ctype,
                    const char *tag);
/* Frees the bytes and zeroes r (r itself is the caller's). */
void roster_rep_release(struct roster_rep *r);

#endif
