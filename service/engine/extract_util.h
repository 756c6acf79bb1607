/* Helpers shared by the extractors (extract.c, extract_views.c). */
#ifndef ROSTER_EXTRACT_UTIL_H
#define ROSTER_EXTRACT_UTIL_H

#include <jansson.h>
#include <stddef.h>

#include "roster_json.h"
#include "roster_extract.h"
#include "roster_markdown.h"
#include "roster_render.h"
#include "roster_resolve.h"

/* Iterates the blocks of one section body (stops at the next heading). */
#define FOR_SECTION_BLOCKS(b, sec)                                                                 \
    for (const struct roster_block *b = (sec)->blocks;                                             \
         b && !(b->kind == ROSTER_BLOCK_H && b->parent && b->parent->kind == ROSTER_BLOCK_DOC);    \
         b = b->next)

/* Index in p->secs of the next section (from `from`) whose title names
 * view (roster_extract_view_of) at level >= 2; p->nsecs when none. */
size_t ex_find_section(const struct roster_profile *p, size_t from, enum roster_view view);
/* fn(section, list, item, ctx) for every item of every list, and every
 * body row of every table, directly in a section of view, in order; stops
 * at the first negative return. */
typedef int (*ex_item_fn)(const struct roster_secref *ref, const struct roster_block *list,
                          const struct roster_block *li, void *ctx);
int ex_each_item(const struct roster_profile *p, enum roster_view view, ex_item_fn fn, void *ctx);
/* 1 when li is the first item of list (a table's first body row). */
int ex_first_item(const struct roster_block *list, const struct roster_block *li);
/* Index of the table column whose header is one of names
 * (case-insensitive), or none. */
int ex_column(const struct roster_block *table, const char *const *names, int none);
/* Trimmed inline source of cell i of a table row ("" when there is none);
 * unbold: "**X**" gives X. */
void ex_cell(const struct roster_block *row, int i, int unbold, const char **s, size_t *n);
/* item with "from" (the profile id that authored it) and "section" (the
 * path of its section) added; NULL (item released) when that fails. */
json_t *ex_from(json_t *item, const struct roster_secref *ref);
/* One past the last entry of secs[k]'s positional subtree. */
size_t ex_subtree_end(const struct roster_profile *p, size_t k);

/* Splits "**Label** rest" into label and rest; returns 0 when there is no
 * leading bold label. */
int ex_bold_label(const char *s, size_t n, const char **label, size_t *llen, const char **rest,
                  size_t *rlen);
/* Drops a leading separator (":", "-", "–", "—") and white space. */
void ex_skip_separator(const char **s, size_t *n);

json_t *ex_str(const char *s, size_t n); /* "" -> null */
/* The first paragraph of a list item. */
const struct roster_block *ex_item_para(const struct roster_block *li);
/* Texts of the items of the lists nested in li. */
json_t *ex_nested_items(const struct roster_block *li);
/* Appends code blocks and tables of entries [k, end) to arrays (either may
 * be NULL). */
int ex_collect(const struct roster_profile *p, size_t k, size_t end, json_t *examples,
               json_t *tables);
/* Trimmed source text of a section's subtree (own=1: its own body only). */
json_t *ex_section_markdown(const struct roster_secref *r, int own);

#endif
