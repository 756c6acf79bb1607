/* Silencing diagnostics: the registry of diagnostic codes (which are
 * errors, which may be ignored), a profile's own `lint: {ignore: [...]}`
 * and the filters that apply it. Errors are never silenced. */
#ifndef ROSTER_IGNORE_H
#define ROSTER_IGNORE_H

#include <stddef.h>

struct roster_diag;
struct roster_diags;
struct roster_nearest;
typedef struct json_t json_t;

enum roster_code_kind {
    ROSTER_CODE_UNKNOWN = 0, /* no diagnostic has this code */
    ROSTER_CODE_ERROR, /* always an error: cannot be ignored */
    /* a warning or a note; a few codes are errors in some places too
     * (file.unreadable): those stay */
    ROSTER_CODE_IGNORABLE,
};

/* Every code a diagnostic can have is in the registry (ignore.c): a code
 * added anywhere else must be added there too, or nobody can ignore it. */
enum roster_code_kind roster_ignore_code_kind(const char *code, size_t len);
/* Why code cannot be ignored, as "<who>: ..." in msg (an error code, or
 * no code at all, with the nearest codes that may be ignored); 0 when it
 * can be. */
int roster_ignore_why(const char *who, const char *code, size_t len, char *msg, size_t cap);

/* Checks the `lint` key of a file's front matter (meta): a mapping whose
 * only key is `ignore`, a list of codes that may be ignored. Each problem
 * is a lint.invalid warning on line `line` of file. */
int roster_ignore_check(const json_t *meta, const char *file, unsigned line,
                        struct roster_diags *diags);
/* 1 when meta's lint.ignore silences g: g is no error and its code is
 * listed (entries that are not strings are skipped). */
int roster_ignore_silences(const json_t *meta, const struct roster_diag *g);
/* Appends src's diagnostics to dst but those meta's lint.ignore silences.
 * When src dropped diagnostics over its cap, all of src is appended, so
 * that the count of dropped ones stays right. */
int roster_ignore_append(struct roster_diags *dst, const struct roster_diags *src,
                         const json_t *meta);

/* The front matter of the file a diagnostic names (NULL: none). */
typedef const json_t *(*roster_ignore_meta_fn)(void *ctx, const char *file);
/* Drops, from position `from` of *list on, the diagnostics that the
 * lint.ignore of their file silences: when there are any, *list becomes a
 * filtered copy (the old list is freed). A list over its cap is left as
 * it is. Fails only without memory (*list unchanged). */
int roster_ignore_filter(struct roster_diags **list, size_t from, roster_ignore_meta_fn meta_of,
                         void *ctx);

#endif
