/* JSON renderings of resolved profiles: the profile document, its views,
 * the prompt document and list summaries. The server serves exactly the
 * bytes that roster_render_dump() makes of these. */
#ifndef ROSTER_RENDER_H
#define ROSTER_RENDER_H

#include <stddef.h>

struct roster_diags;
struct roster_profile;
typedef struct json_t json_t;

enum roster_view {
    ROSTER_VIEW_PROFILE,
    ROSTER_VIEW_ROLE,
    ROSTER_VIEW_COMPETENCIES,
    ROSTER_VIEW_WORK_PATTERNS,
    ROSTER_VIEW_TOOL_PRIORITIES,
    ROSTER_VIEW_OUTPUT_STANDARDS,
    ROSTER_VIEW_ANTI_PATTERNS,
    ROSTER_VIEW_SECTIONS,
    ROSTER_VIEW_LINEAGE,
    ROSTER_VIEW_VARIABLES,
    ROSTER_VIEW_PROMPT,
    ROSTER_VIEW_SOURCE,
    ROSTER_VIEW_COUNT
};

/* URL / CLI name ("work-patterns"). */
const char *roster_view_name(enum roster_view v);
int roster_view_parse(const char *name, size_t len, enum roster_view *out);
/* The view names in table order, ", "-separated, into buf (NUL-terminated,
 * truncated to cap), leaving out the views whose bit (1u << view) is set in
 * skip: what error messages and help texts list. */
void roster_view_names(char *buf, size_t cap, unsigned skip);

/* The full profile object. diags: the index diagnostics (those of the
 * profile's own file are included). */
json_t *roster_render_profile(const struct roster_profile *p, const struct roster_diags *diags);
/* Which items of the structured views and sections a rendering keeps, by
 * their "from": all, the profile's own, or the inherited ones. */
enum roster_scope { ROSTER_SCOPE_ALL, ROSTER_SCOPE_OWN, ROSTER_SCOPE_INHERITED };
/* "all", "own", "inherited"; ROSTER_EINVAL otherwise. */
int roster_scope_parse(const char *s, enum roster_scope *out);
/* 1 for the representations a scope filters: the profile, the five
 * structured views and sections. */
int roster_scope_applies(enum roster_view v);
/* A copy of a profile object whose structured views and sections keep only
 * the items in scope (values shared with profile). */
json_t *roster_render_scoped(const json_t *profile, enum roster_scope scope);
/* {"id": ..., "<key>": profile[key]} for the JSON views. */
json_t *roster_render_view(const json_t *profile, enum roster_view v);
/* {"id", "lineage", "prompt", "sha256"} */
json_t *roster_render_prompt(const struct roster_profile *p);
/* The list summary of a profile object. */
json_t *roster_render_summary(const json_t *profile);
/* The same summary straight from the resolved profile, without rendering
 * the profile (what the snapshot lists before anyone asks for it). */
json_t *roster_render_summary_of(const struct roster_profile *p);

/* The largest rendering (a profile is at most 1 MiB of Markdown). */
#define ROSTER_RENDER_MAX_BYTES ((size_t)64 << 20)
/* Compact JSON followed by a newline; free with roster_free. NULL when any
 * part could not be written (never a partial document). */
char *roster_render_dump(const json_t *j, size_t *len);

#endif
