/* Structured views extracted from a resolved profile's sections. Each
 * function returns a new JSON reference, or NULL on allocation failure.
 * Accepted section titles are listed in docs/profile-format.md. */
#ifndef ROSTER_EXTRACT_H
#define ROSTER_EXTRACT_H

#include <stddef.h>

#include "roster_render.h"

struct roster_buf;
struct roster_profile;
struct roster_section;
typedef struct json_t json_t;

/* The view a section title names ("Tools" -> ROSTER_VIEW_TOOL_PRIORITIES;
 * case-insensitive), or ROSTER_VIEW_COUNT when it names none. Sections
 * that name the same view are one section for inheritance. */
enum roster_view roster_extract_view_of(const char *title, size_t len);

json_t *roster_extract_role(const struct roster_profile *p);
json_t *roster_extract_competencies(const struct roster_profile *p);
json_t *roster_extract_work_patterns(const struct roster_profile *p);
json_t *roster_extract_tool_priorities(const struct roster_profile *p);
json_t *roster_extract_output_standards(const struct roster_profile *p);
json_t *roster_extract_anti_patterns(const struct roster_profile *p);
json_t *roster_extract_sections(const struct roster_profile *p);

/* The search terms of one section, from its blocks: when it is a
 * competencies section, the names of its competencies ("name\n" each, as
 * roster_extract_competencies names them) appended to out. Run at index
 * time, while the blocks exist (roster_section.terms). */
int roster_extract_terms(const struct roster_section *sec, struct roster_buf *out);

#endif
