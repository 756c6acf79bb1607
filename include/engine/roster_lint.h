/* Authoring checks on one parsed file (docs/profile-format.md). */
#ifndef ROSTER_LINT_H
#define ROSTER_LINT_H

struct roster_diags;
struct roster_doc;

/* Warnings for what the author wrote that the views would not read: a
 * "##Title" paragraph meant as a heading, a view section at level 1, a
 * view section with content but no items the extractor can read, tool
 * ranks that start again. Runs while d's sections carry their blocks. */
int roster_lint_doc(const struct roster_doc *d, struct roster_diags *diags);

#endif
