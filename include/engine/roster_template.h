/* Prompt templates: variables declared in front matter (`variables:`),
 * `{{ name }}` placeholders in the composed prompt, values checked against
 * the declarations and inserted literally (docs/profile-format.md
 * "Templates"). */
#ifndef ROSTER_TEMPLATE_H
#define ROSTER_TEMPLATE_H

#include <stddef.h>

struct roster_diags;
struct roster_profile;
typedef struct json_t json_t;

#define ROSTER_TEMPLATE_MAX_VARS 64
#define ROSTER_TEMPLATE_MAX_LENGTH (64 * 1024) /* default max_length, characters */
#define ROSTER_TEMPLATE_MAX_PATTERN 1024 /* bytes of a pattern */
#define ROSTER_TEMPLATE_MAX_PLACEHOLDERS 4096 /* in one composed prompt */

/* A profile's template: its merged declarations (patterns compiled) and
 * its composed prompt cut into literal pieces and placeholders. Immutable
 * once made, so one may serve every request thread. */
struct roster_template;

/* Checks the `variables` key of one file's front matter (meta): a mapping
 * of names ([A-Za-z_][A-Za-z0-9_]*) to mappings of description (string),
 * required (boolean), default (string), enum (list of strings), pattern
 * (a POSIX extended regular expression) and max_length (a whole number,
 * 1 to 1 MiB). Each problem is a `template.invalid_declaration` error on
 * `line` of file; returns the number of problems, or a negative error. */
int roster_template_check_declarations(const json_t *meta, const char *file, unsigned line,
                                       struct roster_diags *diags);

/* The template of a resolved profile. ROSTER_EINVAL when its merged
 * declarations are not valid (why says which; each file's declarations
 * were checked when it was parsed), ROSTER_E2BIG with more than
 * ROSTER_TEMPLATE_MAX_PLACEHOLDERS placeholders, ROSTER_ENOMEM. */
int roster_template_new(struct roster_template **out, const struct roster_profile *p, char *why,
                        size_t why_cap);
/* The same with the declarations only (no prompt: nothing to render):
 * what the index-time checks need, without composing every prompt. */
int roster_template_declared(struct roster_template **out, const struct roster_profile *p,
                             char *why, size_t why_cap);
void roster_template_free(struct roster_template *t);
/* 1 when every default satisfies its merged declaration; else 0 and why
 * names the first that does not (a request that relies on it gets a 422);
 * ROSTER_ENOMEM. */
int roster_template_defaults_hold(const struct roster_template *t, char *why, size_t cap);

/* The declarations as the profile JSON shows them: [{"name",
 * "description", "required", "default", "enum", "pattern", "max_length",
 * "from"}] in name order. A new reference, NULL without memory. */
json_t *roster_template_declarations(const struct roster_template *t);

/* Checks values (a JSON object of name -> string) against the
 * declarations: every problem, not only the first, goes to *problems as
 * {"name", "reason", "detail"} (reason: missing, unknown, not_string,
 * not_in_enum, pattern_mismatch, too_long). 0 with *resolved set (a new
 * object: every declared variable's value, defaults applied; variables
 * without value or default are left out), ROSTER_EINVAL with *problems
 * set, ROSTER_ENOMEM. */
int roster_template_bind(const struct roster_template *t, const json_t *values, json_t **resolved,
                         json_t **problems);

/* "2 variables are not accepted: task (missing), language (not_in_enum)":
 * the one-line summary of roster_template_bind's problems that the REST
 * 422 and the MCP -32602 both say, into out (cut with ", ..."). */
void roster_template_summary(const json_t *problems, char *out, size_t cap);

/* The composed prompt with every placeholder replaced by its value in
 * resolved (a placeholder without one stays as written), `{{{{` written as
 * `{{`, nothing else changed. A new NUL-terminated buffer (roster_malloc)
 * of *len bytes, or NULL without memory. */
char *roster_template_render(const struct roster_template *t, const json_t *resolved, size_t *len);

/* The same rendering as a JSON string literal (quotes included) appended
 * to b, and the SHA-256 (hex) of the rendered text in sha: the "prompt"
 * and "sha256" of the JSON answer, with the template's text escaped once
 * when it was made, so a request escapes only its values. sha may be NULL
 * (no hash: MCP's prompts/get). 0, or a negative error (b then holds a
 * partial literal). */
struct roster_buf;
int roster_template_render_json(const struct roster_template *t, const json_t *resolved,
                                struct roster_buf *b, char sha[65]);

/* Warnings about a resolved profile's template, on its own file:
 * `template.undeclared` (a placeholder in its own text that no
 * declaration names, with its line) and `template.unused` (info: a
 * variable it declares that no placeholder of its prompt uses) and
 * `template.invalid_default` (an inherited default its own declaration
 * rejects). */
int roster_template_check(const struct roster_profile *p, struct roster_diags *diags);

#endif
