/* Reading a profiles directory into an index: the only module of the data
 * path that touches the file system for profiles. */
#ifndef ROSTER_SCAN_H
#define ROSTER_SCAN_H

#include <stddef.h>

#include "roster_index.h"

struct roster_error;

#define ROSTER_SCAN_MAX_THREADS 64

/* How far a scan is (read by other threads while it runs). */
struct roster_progress {
    _Atomic size_t total; /* files found (set once the walk is done) */
    _Atomic size_t indexed; /* files parsed or reused so far */
    _Atomic size_t reused; /* of those, unchanged files taken from the previous scan */
};

struct roster_scan_opts {
    int strict_markdown;
    unsigned threads; /* parsing threads; 0: one per core */
    /* the previous scan of the same directory: its docs for files whose
     * identity (device, inode, size, mtime, ctime) is unchanged are
     * reused, not read again */
    const struct roster_index *previous;
    struct roster_progress *progress; /* or NULL */
    const _Atomic int *cancel; /* set: stop soon and fail with ROSTER_ECANCELED (or NULL) */
};

/* Every profile file under dir, parsed (hidden entries skipped, links
 * followed only inside dir, files capped at ROSTER_DOC_MAX_BYTES). Fails
 * (ROSTER_ENOENT / ROSTER_EIO, with err) only when the directory itself
 * cannot be read; every problem with a file is a diagnostic. The index is
 * the caller's (roster_index_free). */
int roster_scan(struct roster_index **out, const char *dir, const struct roster_scan_opts *opts,
                struct roster_error *err);
/* The same on one thread, reusing nothing. */
int roster_scan_dir(struct roster_index **out, const char *dir,
                    const struct roster_index_opts *opts, struct roster_error *err);

#endif
