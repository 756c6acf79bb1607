/* Shared between the Markdown modules (fence.c, markdown.c, blocks.c). */
#ifndef ROSTER_MD_INTERNAL_H
#define ROSTER_MD_INTERNAL_H

#include <md4c.h>
#include <stddef.h>

#include "roster_markdown.h"
#include "roster_text.h"

#define ROSTER_MD_FLAGS (MD_DIALECT_GITHUB)

/* Repairs info-string closing fences in place in work[0..len), a copy of
 * the whole normalized text whose body starts at body_off. Each repair
 * blanks the info string with spaces (offsets and lines are unchanged) and
 * adds a warning. Returns the number of repairs, or a negative error. */
int roster_fence_repair(char *work, size_t len, size_t body_off, const struct roster_lines *lines,
                        const char *file, struct roster_diags *diags);

/* Fenced blocks that are never closed and swallow lines that look like
 * headings: each is reported; when recover is set and one of those lines
 * starts a view section (say "## Tool Priorities") outside a Markdown
 * example, the block is read as closed before it: its offset goes to
 * cuts (parse the text in pieces split there). Returns the number of
 * cuts, or a negative error. */
#define ROSTER_MD_MAX_CUTS 16
int roster_fence_unclosed(const char *work, size_t len, size_t body_off,
                          const struct roster_lines *lines, int recover, const char *file,
                          struct roster_diags *diags, size_t *cuts, size_t max_cuts);

/* Inline source of lines [first, last] of a block: container prefixes
 * (quote markers, list markers on the item's first line, indentation)
 * removed, each line trimmed, joined by single spaces. */
int roster_block_inline_source(struct roster_arena *arena, const struct roster_lines *lines,
                               const struct roster_block *b, const char **out, size_t *out_len);

/* Fills the cells of a table block from its source rows. */
int roster_block_table_cells(struct roster_arena *arena, const struct roster_lines *lines,
                             struct roster_block *table);

/* Builds md->sections from the top-level headings of the block tree. */
/* copy_titles: the blocks live in another arena, so titles are copied. */
int roster_md_sections(struct roster_md *md, struct roster_arena *arena, int copy_titles,
                       const struct roster_lines *lines, struct roster_block *root,
                       struct roster_error *err);

/* md4c (ROSTER_MD_FLAGS) over text[body_off..len) for a reader of blocks
 * and text (spans are ignored); md_parse's result. */
int roster_md_run(const char *text, size_t len, size_t body_off,
                  int (*enter)(MD_BLOCKTYPE, void *, void *),
                  int (*leave)(MD_BLOCKTYPE, void *, void *),
                  int (*text_cb)(MD_TEXTTYPE, const MD_CHAR *, MD_SIZE, void *), void *userdata);

#endif
