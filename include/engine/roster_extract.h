/* Structured views extracted from a resolved profile's sections. Each
 * function returns a new JSON reference, or NULL on allocation failure.
 * Accepted section titles are listed in docs/profile-format.md. */
#ifndef ROSTER_EXTRACT_H
#define ROSTER_EXTRACT_H

struct roster_profile;
typedef struct json_t json_t;

json_t *roster_extract_role(const struct roster_profile *p);
json_t *roster_extract_competencies(const struct roster_profile *p);
json_t *roster_extract_work_patterns(const struct roster_profile *p);
json_t *roster_extract_tool_priorities(const struct roster_profile *p);
json_t *roster_extract_output_standards(const struct roster_profile *p);
json_t *roster_extract_anti_patterns(const struct roster_profile *p);
json_t *roster_extract_sections(const struct roster_profile *p);

#endif
