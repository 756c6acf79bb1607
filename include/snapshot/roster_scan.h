/* Reading a profiles directory into an index: the only module of the data
 * path that touches the file system for profiles. */
#ifndef ROSTER_SCAN_H
#define ROSTER_SCAN_H

#include "roster_index.h"

struct roster_error;

/* Every profile file under dir, parsed (hidden entries skipped, links
 * followed only inside dir, files capped at ROSTER_DOC_MAX_BYTES). Fails
 * (ROSTER_ENOENT / ROSTER_EIO, with err) only when the directory itself
 * cannot be read; every problem with a file is a diagnostic. The index is
 * the caller's (roster_index_free). */
int roster_scan_dir(struct roster_index **out, const char *dir,
                    const struct roster_index_opts *opts, struct roster_error *err);

#endif
