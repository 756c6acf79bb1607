/* Shared by the history store's modules (history_store.c, history_write.c,
 * history_record.c). */
#ifndef ROSTER_HISTORY_INTERNAL_H
#define ROSTER_HISTORY_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>

#include "roster_history.h"

#define HISTORY_MAGIC "roster-history 1\n"
#define HISTORY_MAGIC_LEN (sizeof(HISTORY_MAGIC) - 1)
/* "sha256:" + 64 hex + "\n" */
#define HISTORY_TRAILER_LEN 72
#define HISTORY_SUFFIX ".v1"
#define HISTORY_TEMP_PREFIX ".tmp-"
/* Corrupt files this process remembers having warned about. */
#define HISTORY_REPORTED_MAX 1024
/* A lineage has at most ROSTER_MAX_HOPS + 1 files; a header listing more is corrupt. */
#define HISTORY_LINEAGE_MAX 64
#define HISTORY_PATH_MAX 4096

struct roster_history {
    char *dir;
    unsigned keep;
    pthread_mutex_t lock; /* reported */
    char *reported[HISTORY_REPORTED_MAX];
    size_t nreported;
};

/* A version file's header line, checked against its file name, its
 * directory and the file's length. */
struct roster_history_header {
    char digest[65];
    double first_seen;
    int strict;
    char renderer[64];
    json_t *lineage; /* a new reference, or NULL when not asked for */
    size_t end; /* offset of the first part */
    size_t plen[ROSTER_HISTORY_NPARTS];
    char psha[ROSTER_HISTORY_NPARTS][65];
};

/* dir/profiles[/id[/file]] into out; -1 when it does not fit. */
int roster_history_path(const struct roster_history *h, char *out, size_t cap, const char *id,
                        const char *file);
/* 1 when s[0..n) are lower-case hex digits. */
int roster_history_hex(const char *s, size_t n);
/* 1 when name is "<64 lower-case hex>.v1" (hex filled, when not NULL). */
int roster_history_version_name(const char *name, char hex[65]);
/* Checks the head of a version file (its first avail bytes; the file is
 * file_len long): magic line, header JSON, digest = hex, id, lengths. 0;
 * ROSTER_EIO with why; ROSTER_E2BIG when avail ends before the header
 * line does; ROSTER_ENOMEM. hd->lineage is set only when keep_lineage. */
int roster_history_header_check(const char *data, size_t avail, size_t file_len, const char *id,
                                const char *hex, int keep_lineage, struct roster_history_header *hd,
                                char *why, size_t why_cap);
/* Reads and checks the header of the version file at path (no hashing):
 * 0 with *hd and *st; ROSTER_ENOENT; ROSTER_EIO with why; ROSTER_ENOMEM. */
int roster_history_peek(const char *path, const char *id, const char *hex,
                        struct roster_history_header *hd, struct stat *st, char *why,
                        size_t why_cap);
/* Verifies a whole file (magic, trailer hash, header, parts): 0 with *hd
 * (and its lineage, when keep_lineage); ROSTER_EIO with why; ROSTER_ENOMEM. */
int roster_history_verify(const char *data, size_t len, const char *id, const char *hex,
                          int keep_lineage, struct roster_history_header *hd, char *why,
                          size_t why_cap);
/* Reads a whole regular file of at most cap bytes: 0; ROSTER_ENOENT;
 * ROSTER_E2BIG (larger); ROSTER_EIO (errno kept); ROSTER_ENOMEM. */
int roster_history_read_file(const char *path, size_t cap, char **data, size_t *len,
                             struct stat *st);

#endif
