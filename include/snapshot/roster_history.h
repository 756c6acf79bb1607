/* The history store (docs/versions.md, "History"): every distinct version
 * of every served profile, kept as one self-verifying file per version,
 *
 *   DIR/profiles/<id>/<hex digest>.v1
 *
 * content-addressed by the profile's lineage digest (sp->good_key), so two
 * processes that record the same version write equivalent files. A file:
 *
 *   roster-history 1\n
 *   {"digest","id","first_seen","renderer","strict","lineage","parts"}\n
 *   <profile JSON bytes><prompt Markdown bytes><prompt JSON bytes>
 *   sha256:<hex of every byte before this line>\n
 *
 * Writes go to a temporary file in the same directory, are fsynced and
 * renamed into place, and the directory is fsynced: a crash leaves at most
 * a temporary file, never a torn version. No locks: several processes may
 * share the directory (a ReadWriteMany volume). Every read verifies the
 * file (magic, trailer hash, header, digest = file name, each part's
 * length and sha256); a file that fails is skipped with a reason, never
 * served. The store neither logs nor counts: the caller does. */
#ifndef ROSTER_HISTORY_H
#define ROSTER_HISTORY_H

#include <stddef.h>

struct roster_error;
struct roster_snapshot;
typedef struct json_t json_t;

/* Versions kept per profile (--history-keep): default and bounds. */
#define ROSTER_HISTORY_KEEP_DEFAULT 100
#define ROSTER_HISTORY_KEEP_MAX 100000
/* Files a profile directory is read for at most (versions and stray ones). */
#define ROSTER_HISTORY_SCAN_MAX 200000
/* The largest version file read: three representations of at most
 * ROSTER_RENDER_MAX_BYTES each, and the header. */
#define ROSTER_HISTORY_FILE_MAX (((size_t)3 << 26) + ((size_t)1 << 20))
/* The largest header line. */
#define ROSTER_HISTORY_HEADER_MAX ((size_t)1 << 20)
/* Temporary files older than this are a crashed writer's: removed. */
#define ROSTER_HISTORY_TEMP_AGE 600
/* Corrupt files reported per call at most (the rest are counted). */
#define ROSTER_HISTORY_SKIPS_MAX 100

/* The parts of a version, in file order. */
enum roster_history_part {
    ROSTER_HISTORY_PROFILE, /* GET /v1/profiles/{id} */
    ROSTER_HISTORY_PROMPT, /* GET .../prompt (Markdown) */
    ROSTER_HISTORY_PROMPT_JSON, /* GET .../prompt, Accept: application/json */
    ROSTER_HISTORY_NPARTS
};
/* "profile", "prompt", "prompt_json": the keys of the header's "parts". */
const char *roster_history_part_name(enum roster_history_part p);

struct roster_history;

/* Opens the store at dir (creating dir and dir/profiles when missing).
 * keep: versions kept per profile, 1..ROSTER_HISTORY_KEEP_MAX. Fails with
 * err when dir cannot be used. The store is the caller's
 * (roster_history_free); it is safe to use from several threads. */
int roster_history_open(struct roster_history **out, const char *dir, unsigned keep,
                        struct roster_error *err);
/* The same for reading only (rosterd history): dir must exist; nothing
 * is created. */
int roster_history_open_existing(struct roster_history **out, const char *dir,
                                 struct roster_error *err);
void roster_history_free(struct roster_history *h);
const char *roster_history_dir(const struct roster_history *h);
/* 1 the first time this process is told about the corrupt file `file`
 * (a relative path), 0 after: one warning per file, not one per request. */
int roster_history_first_report(struct roster_history *h, const char *file);

/* A file that failed verification: its path relative to the store's
 * directory and what failed. */
struct roster_history_skip {
    char *file;
    char *reason;
};
struct roster_history_skips {
    struct roster_history_skip *v;
    size_t n;
    size_t dropped; /* more than ROSTER_HISTORY_SKIPS_MAX */
};
/* Appends a file and why to s (s may be NULL); 0 or ROSTER_ENOMEM. */
int roster_history_skip_add(struct roster_history_skips *s, const char *file, const char *why);
void roster_history_skips_release(struct roster_history_skips *s);
/* Unix time now, in seconds with milliseconds (first_seen, last_seen). */
double roster_history_now(void);

/* One version as listed: from its header, checked (magic, header, digest
 * = file name, file length = header + parts + trailer) but not hashed. */
struct roster_history_entry {
    char digest[65]; /* hex */
    double first_seen; /* unix seconds */
    double last_seen; /* the file's modification time */
};

/* The versions stored for id, newest first (first_seen, then digest,
 * descending); *out is the caller's (roster_free), *n may be 0. Files that
 * fail the checks go to skips (may be NULL). ROSTER_ENOENT when the store
 * has no directory for id; ROSTER_ENOMEM; ROSTER_EIO with err when the
 * directory cannot be read. */
int roster_history_list(struct roster_history *h, const char *id, struct roster_history_entry **out,
                        size_t *n, struct roster_history_skips *skips, struct roster_error *err);

/* One version, read and verified completely. */
struct roster_history_version {
    char digest[65];
    double first_seen;
    double last_seen;
    int strict;
    char renderer[64];
    json_t *lineage; /* [{"path","sha256"}], root first */
    char *data; /* the whole file */
    size_t len;
    size_t off[ROSTER_HISTORY_NPARTS]; /* each part's bytes: data + off, plen long */
    size_t plen[ROSTER_HISTORY_NPARTS];
    char file[300]; /* relative to the store's directory */
};
/* Reads version `digest` (64 hex) of id. 0; ROSTER_ENOENT when it is not
 * stored; ROSTER_EIO when it is stored but fails verification (err: the
 * relative file and what failed) or cannot be read; ROSTER_ENOMEM. */
int roster_history_load(struct roster_history *h, const char *id, const char *digest,
                        struct roster_history_version *out, struct roster_error *err);
void roster_history_version_release(struct roster_history_version *v);
/* Takes part p's bytes out of v (the caller's, roster_free; v keeps the
 * rest and is still released as usual), or NULL without memory. */
char *roster_history_version_take(struct roster_history_version *v, enum roster_history_part p,
                                  size_t *len);

/* What to store. Borrowed for the call. */
struct roster_history_record {
    const char *id;
    const char *digest; /* 64 hex: the lineage digest */
    double first_seen;
    const char *renderer;
    int strict;
    const json_t *lineage; /* [{"path","sha256"}], root first */
    const char *part[ROSTER_HISTORY_NPARTS];
    size_t part_len[ROSTER_HISTORY_NPARTS];
};
/* 1 when the store has a directory for id (some version was stored). */
int roster_history_has_profile(struct roster_history *h, const char *id);
/* 1 when version `digest` of id is stored and its header and length check
 * out (no hashing: cheap enough for every profile at every start). */
int roster_history_present(struct roster_history *h, const char *id, const char *digest);
/* Stores a version unless a copy that verifies is there: 1 written, 0
 * already there; a stored copy that fails verification is replaced (and
 * added to `replaced`, which may be NULL). Then, in the profile's
 * directory, removes temporary files older than ROSTER_HISTORY_TEMP_AGE
 * and the oldest versions beyond keep (never rec->digest). Negative with
 * err (file: the path, message: what failed and the errno text) when it
 * cannot be written; ROSTER_EINVAL for a record that is not one. */
int roster_history_write(struct roster_history *h, const struct roster_history_record *rec,
                         struct roster_history_skips *replaced, struct roster_error *err);
/* The version stopped being current: its last_seen (the file's mtime)
 * becomes now. 0; ROSTER_ENOENT when it is not stored; ROSTER_EIO with err. */
int roster_history_touch(struct roster_history *h, const char *id, const char *digest,
                         struct roster_error *err);

/* Parses a digest as a client writes it: "sha256:" and 64 hex digits, or
 * the 64 hex digits alone (either case), into 64 lower-case hex digits and
 * a NUL. 0, or -1 when it is neither. */
int roster_history_digest_parse(const char *s, size_t len, char hex[65]);

/* ---- recording (history_record.c) --------------------------------------- */

/* What the recorder reports, on its own thread (the app logs and counts). */
struct roster_history_hooks {
    void *ctx;
    /* a version was written (or could not be: err set, rc negative) */
    void (*write)(void *ctx, const char *id, const char *digest, int rc,
                  const struct roster_error *err);
    /* a stored copy of a version failed verification and was rewritten */
    void (*corrupt)(void *ctx, const char *file, const char *reason);
    /* one snapshot recorded: versions written, already present, failed,
     * versions that stopped being current, and the time it took */
    void (*pass)(void *ctx, unsigned long long generation, size_t written, size_t present,
                 size_t failed, size_t retired, double seconds, int cancelled);
};

struct roster_history_recorder;
/* A thread that records every served, non-stale profile of each snapshot
 * handed to it whose version is not stored yet (all of them, by a stat,
 * for the first snapshot and after a pass with errors; afterwards only
 * those whose digest changed), and marks the versions that stopped being
 * current. Never blocks the caller for long; h must outlive it. */
int roster_history_recorder_new(struct roster_history_recorder **out, struct roster_history *h,
                                const struct roster_history_hooks *hooks, struct roster_error *err);
/* Queues snap (takes a reference of its own). At most a few snapshots wait:
 * when the queue is full, snap replaces the newest waiting one (whose
 * versions then are recorded only if the next ones still have them). */
void roster_history_recorder_submit(struct roster_history_recorder *r,
                                    struct roster_snapshot *snap);
/* Waits until every queued snapshot is recorded (tests); 0, or
 * ROSTER_EBUSY after timeout seconds. */
int roster_history_recorder_wait(struct roster_history_recorder *r, double timeout);
/* Stops the thread: the pass under way ends after the file it writes
 * (nothing is torn), queued snapshots are dropped. */
void roster_history_recorder_free(struct roster_history_recorder *r);

#endif
