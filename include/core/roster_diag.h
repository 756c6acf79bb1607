/* Diagnostics: what the engine found wrong or repaired in the profiles.
 * A list owns copies of every string it holds. */
#ifndef ROSTER_DIAG_H
#define ROSTER_DIAG_H

#include <stddef.h>

struct roster_buf;
typedef struct json_t json_t;

enum roster_severity {
    ROSTER_SEV_ERROR = 0,
    ROSTER_SEV_WARNING = 1,
    ROSTER_SEV_INFO = 2,
};

struct roster_diag {
    enum roster_severity severity;
    char *code; /* stable dotted code, e.g. "markdown.fence_info_closer" */
    char *file; /* relative to the profiles directory, or NULL */
    unsigned line; /* 1-based, 0 when not tied to a line */
    unsigned col; /* 1-based, 0 when unknown */
    char *message;
    char *profile; /* profile id, or NULL when none could be determined */
};

struct roster_diags;

struct roster_diags *roster_diags_new(void);
/* Copies every diagnostic of src into d (profile fills those without one),
 * within d's cap; what src dropped is counted as dropped by d. */
int roster_diags_append(struct roster_diags *d, const struct roster_diags *src,
                        const char *profile);
struct roster_diags *roster_diags_free(struct roster_diags *d);
/* Adds one diagnostic; strings are copied; d NULL drops it (a re-parse of
 * text whose diagnostics were reported already). At most ROSTER_DIAGS_MAX are kept,
 * later ones are counted in roster_diags_dropped() and reported by
 * roster_diags_sort(). */
int roster_diags_add(struct roster_diags *d, enum roster_severity sev, const char *code,
                     const char *file, unsigned line, unsigned col, const char *profile,
                     const char *fmt, ...) __attribute__((format(printf, 8, 9)));
size_t roster_diags_count(const struct roster_diags *d);
size_t roster_diags_dropped(const struct roster_diags *d);
const struct roster_diag *roster_diags_get(const struct roster_diags *d, size_t i);
size_t roster_diags_count_severity(const struct roster_diags *d, enum roster_severity sev);
/* Finishes the list for output: when diagnostics were dropped, one more
 * (ROSTER_DIAGS_TRUNCATED, no file, as severe as the worst one dropped)
 * says how many, and it is kept up to date by later calls; then sorts by
 * file, line, column, code, so output never depends on input order.
 * Fails only on allocation failure (the list is sorted all the same). */
int roster_diags_sort(struct roster_diags *d);
/* Sets `profile` on every diagnostic of `file` that has none. */
int roster_diags_set_profile(struct roster_diags *d, const char *file, const char *profile);

const char *roster_severity_name(enum roster_severity sev);
int roster_severity_parse(const char *s, enum roster_severity *out);

/* One diagnostic as a JSON object (new reference), NULL on OOM. */
json_t *roster_diag_to_json(const struct roster_diag *g);
/* Text forms: "file:line:col: severity: message [code]" and GitHub
 * workflow annotations. Appends to b. */
int roster_diag_format_text(const struct roster_diag *g, struct roster_buf *b);
int roster_diag_format_github(const struct roster_diag *g, struct roster_buf *b);

#define ROSTER_DIAGS_MAX 100000
#define ROSTER_DIAGS_TRUNCATED "diagnostics.truncated"

#endif
