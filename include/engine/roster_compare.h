/* What changed between two versions of one resolved profile: the items of
 * the structured views (added, removed, moved, changed, each with its
 * `from`), the front matter fields, and a unified diff of the composed
 * prompt. Pure: it takes two rendered profile objects and two prompts, so
 * `rosterd diff` and a route that compares stored versions share it. The
 * description's shape is documented in docs/versions.md. */
#ifndef ROSTER_COMPARE_H
#define ROSTER_COMPARE_H

#include <stddef.h>

struct roster_error;
typedef struct json_t json_t;

/* Items per list that a comparison takes; more is ROSTER_E2BIG. */
#define ROSTER_COMPARE_MAX_ITEMS 10000
/* Lines of context in the prompt diff, as diff -u. */
#define ROSTER_COMPARE_CONTEXT 3

/* One version: borrowed for the call. */
struct roster_compare_side {
    const json_t *profile; /* the full profile object (roster_render_profile) */
    const char *prompt; /* the composed prompt (the prompt view's bytes) */
    size_t prompt_len;
    const char *label; /* names the prompt after "---" / "+++" (NULL: "old" / "new") */
};

/* Compares two versions of a profile into a new object (*out, the
 * caller's):
 *   {"changed": bool,
 *    "views": {VIEW: {"added": [...], "removed": [...], "moved": [...],
 *                     "changed": [...]}}   (only the views that changed)
 *    "fields": {NAME: {"old": v|null, "new": v|null}}   (only changed ones)
 *    "prompt_diff": "--- ...\n" | null, "prompt_lines": {"added", "removed"},
 *    "prompt_replaced": bool}
 * VIEW is a view name (competencies, work-patterns, tool-priorities,
 * output-standards, anti-patterns); an item is {"key", "from", ...}: its
 * name (or text, with "list" for anti-patterns) and the profile of the
 * lineage that authored it. "moved": an item on both sides whose order
 * among the items of both sides changed (those outside a longest common
 * subsequence of them); a change of `rank` alone is a move. NAME is a key
 * of the merged front matter ("metadata"), "lineage", "role.title" or
 * "role.statement". 0; ROSTER_E2BIG (a list over ROSTER_COMPARE_MAX_ITEMS)
 * or ROSTER_ENOMEM with err set; *out is untouched on failure. */
int roster_compare_profiles(const struct roster_compare_side *old,
                            const struct roster_compare_side *new_, json_t **out,
                            struct roster_error *err);

#endif
