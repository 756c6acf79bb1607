/* `rosterd diff OLD NEW` (app/diff.c): the change description of two
 * profiles directories, and its text, Markdown and GitHub forms
 * (app/diff_format.c). The JSON shape is documented in docs/versions.md. */
#ifndef ROSTER_APP_DIFF_H
#define ROSTER_APP_DIFF_H

struct roster_buf;
typedef struct json_t json_t;

/* Each appends the form of a result ({"summary", "profiles", ...}, as
 * roster_cli_diff makes it) to out: 0, or ROSTER_E2BIG / ROSTER_ENOMEM. */
int roster_diff_format_text(const json_t *result, struct roster_buf *out);
/* For a pull-request comment or $GITHUB_STEP_SUMMARY: a table, then a
 * <details> block per profile that is not unchanged. Prompt diffs are left
 * out (with a note) past ROSTER_DIFF_MARKDOWN_BUDGET bytes of output,
 * under GitHub's 1 MiB limit for a step summary. */
#define ROSTER_DIFF_MARKDOWN_BUDGET ((size_t)900 * 1024)
int roster_diff_format_markdown(const json_t *result, struct roster_buf *out);
/* GitHub Actions workflow commands: ::notice for an added or changed
 * profile, ::warning for a removed one or one with errors, each pointing
 * at its source file. */
int roster_diff_format_github(const json_t *result, struct roster_buf *out);

#endif
