/* One profile file, parsed: front matter, id and Markdown structure.
 * Nothing here looks at other files; inheritance is resolve.c's job. */
#ifndef ROSTER_DOC_H
#define ROSTER_DOC_H

#include <stddef.h>

#include "roster_markdown.h"

struct roster_arena;
struct roster_diags;
typedef struct json_t json_t;

#define ROSTER_DOC_MAX_BYTES (1024 * 1024)
#define ROSTER_ID_MAX 128
#define ROSTER_ID_MAX_BUF (ROSTER_ID_MAX + 1)

struct roster_doc {
    struct roster_arena *arena; /* owns the section tree and strings */
    char *relpath; /* path relative to the profiles directory */
    char *stem; /* file name without ".md" */
    char *id; /* front matter id, or derived from the stem */
    json_t *meta; /* front matter as an object (empty when absent) */
    char *raw; /* the file as written */
    size_t raw_len;
    char *text; /* normalized: no BOM, LF line endings (== raw when it was) */
    size_t text_len;
    char sha256[65]; /* of raw */
    struct roster_md md;
    int failed; /* an error was reported: the profile is not served */
    size_t pos; /* position in the index */
    unsigned extends_line; /* line of the extends key, for diagnostics */
    unsigned inherit_line; /* line of the inherit key (0: none) */
    unsigned variables_line; /* line of the variables key (0: none) */
    int duplicate; /* another file with a smaller path has this id */
    int strict; /* parsed as strict CommonMark (no fence repair) */
    int has_blocks; /* md's sections carry their blocks (keep_blocks) */
    /* The doc's own diagnostics when it keeps them (a directory scan does,
     * so an unchanged file is reused with them by the next scan), else NULL
     * (they went to the index's list directly). */
    struct roster_diags *diags;
    /* The file's identity when it was read (snapshot/scan.c): a file whose
     * identity is unchanged is not read again. */
    struct {
        unsigned long long dev, ino, size, mtime_ns, ctime_ns;
    } stat;
    _Atomic long refs; /* indexes holding it (roster_doc_ref / roster_doc_free) */
};

struct roster_doc_opts {
    int strict_markdown;
    /* 1: keep the Markdown block tree in the doc. 0 (the index's way): keep
     * the sections only, a quarter of the memory; roster_doc_blocks parses
     * the tree again when a representation is rendered. */
    int keep_blocks;
};

/* Parses one file. Takes ownership of raw (allocated with roster_malloc,
 * with a NUL at raw[raw_len]: the text shares it when no normalization is
 * needed).
 * Problems in the file become diagnostics and set doc->failed; only
 * allocation failure makes this return an error. */
int roster_doc_parse(struct roster_doc **out, const char *relpath, char *raw, size_t raw_len,
                     const struct roster_doc_opts *opts, struct roster_diags *diags);

/* A doc that could not be read (too large, unreadable): failed, no body. */
int roster_doc_new_failed(struct roster_doc **out, const char *relpath);

/* Another index holds d too. A shared doc is read-only except for pos,
 * which the newest index sets (only index building and resolving read it). */
struct roster_doc *roster_doc_ref(struct roster_doc *d);
/* Drops a reference; the last one frees the doc. Returns NULL. */
struct roster_doc *roster_doc_free(struct roster_doc *d);

/* The block tree of a parsed doc, parsed again from its text into a new
 * arena (*arena, the caller frees it): md gets the same sections, in the
 * same order, with their blocks. Diagnostics are not repeated. */
int roster_doc_blocks(const struct roster_doc *d, struct roster_arena **arena,
                      struct roster_md *md);

/* What a profile id looks like (ROSTER_ID_MAX bytes at most); the one
 * spelling every message and the contract use. */
#define ROSTER_ID_PATTERN "^[a-z0-9][a-z0-9._-]{0,127}$"
/* 1 when s is a valid profile id: ROSTER_ID_PATTERN */
int roster_id_valid(const char *s, size_t len);

#endif
