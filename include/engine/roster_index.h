/* The index: every profile document of a directory, parsed, with ids
 * assigned deterministically (paths sorted bytewise). Reading the directory
 * itself is roster_scan_dir (roster_scan.h, the snapshot layer). */
#ifndef ROSTER_INDEX_H
#define ROSTER_INDEX_H

#include <stddef.h>

struct roster_diags;
struct roster_doc;
struct roster_error;
struct roster_map;

#define ROSTER_INDEX_MAX_FILES 100000
#define ROSTER_INDEX_MAX_DEPTH 16

struct roster_index {
    char *root; /* the directory as given */
    char *real_root; /* its real path (NULL for memory indexes) */
    struct roster_doc **docs; /* sorted by relative path */
    size_t ndocs;
    struct roster_diags *diags;
    struct roster_map *by_id; /* id -> the doc serving it */
    unsigned long long scanned_at_ns; /* wall clock when a directory scan began (0: none) */
};

struct roster_index_opts {
    int strict_markdown;
};

/* The same from in-memory files (names must be sorted and unique); used by
 * the pipeline fuzzer and tests. */
int roster_index_load_memory(struct roster_index **out, const char *const *names,
                             const char *const *data, const size_t *lens, size_t n,
                             const struct roster_index_opts *opts);
/* An empty index of the directory root (as given), or NULL without memory;
 * then room for n documents (roster_index_reserve) and each parsed document
 * in path order (roster_index_add takes it over). */
struct roster_index *roster_index_new(const char *root);
int roster_index_reserve(struct roster_index *ix, size_t n);
void roster_index_add(struct roster_index *ix, struct roster_doc *doc);
/* After every doc is in ix->docs: duplicate ids, profile ids on the
 * diagnostics, diagnostics in a stable order. */
int roster_index_finish(struct roster_index *ix);
struct roster_index *roster_index_free(struct roster_index *ix);

/* The doc serving `id` (the first by path among files with that id). */
struct roster_doc *roster_index_find(const struct roster_index *ix, const char *id);

#endif
