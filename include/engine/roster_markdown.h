/* Markdown body: fence repair, then md4c (GitHub dialect) into a block
 * tree and a section tree with file line numbers. Every string is the
 * inline Markdown source of the element, trimmed, with soft breaks as
 * spaces; code blocks keep their content verbatim. */
#ifndef ROSTER_MARKDOWN_H
#define ROSTER_MARKDOWN_H

#include <stddef.h>

struct roster_arena;
struct roster_diags;
struct roster_error;

enum roster_block_kind {
    ROSTER_BLOCK_DOC,
    ROSTER_BLOCK_P,
    ROSTER_BLOCK_H,
    ROSTER_BLOCK_UL,
    ROSTER_BLOCK_OL,
    ROSTER_BLOCK_LI,
    ROSTER_BLOCK_CODE,
    ROSTER_BLOCK_QUOTE,
    ROSTER_BLOCK_TABLE,
    ROSTER_BLOCK_ROW,
    ROSTER_BLOCK_CELL,
    ROSTER_BLOCK_HR,
    ROSTER_BLOCK_HTML,
};

struct roster_block {
    enum roster_block_kind kind;
    unsigned line_first; /* file lines; 0 when the block holds no text */
    unsigned line_last;
    unsigned level; /* heading level; start number of an ordered list */
    int is_task; /* list item with a task box */
    int header; /* table row: 1 for the header row */
    const char *text; /* P, CELL: inline source; H: title; CODE, HTML: content */
    size_t text_len;
    const char *lang; /* CODE: first word of the info string, or NULL */
    struct roster_block *parent, *first, *last, *next;
};

struct roster_section {
    unsigned level;
    const char *title;
    const char *slug; /* unique among siblings ("-2", "-3" ... on repeats) */
    const char *path; /* titles from the top, joined with '/' */
    unsigned line; /* the heading's line in the file */
    int parent; /* index of the parent section, -1 at the top */
    size_t start; /* offsets in the normalized text: heading line */
    size_t body; /* first byte after the heading */
    size_t end; /* where the next section starts */
    size_t subtree_end; /* where the next section of this level or above starts */
    struct roster_block *blocks; /* first block of the body, linked by next */
    const char *terms; /* search terms found in the blocks (roster_doc_parse), or NULL */
};

struct roster_md {
    struct roster_section *sections;
    size_t nsections;
    struct roster_block *preamble; /* blocks before the first heading */
    size_t body_start; /* offset of the body in the text */
    size_t body_end;
    unsigned repairs; /* fence repairs made */
};

#define ROSTER_MD_MAX_DEPTH 64
#define ROSTER_MD_MAX_REPAIRS 64
#define ROSTER_MD_MAX_SECTIONS 4096

struct roster_md_opts {
    int strict; /* 1: no fence repair (strict CommonMark) */
    const char *file; /* for diagnostics */
    /* where the block tree goes; NULL: the arena of the sections. A
     * separate arena can be freed after the parse, leaving sections whose
     * titles, slugs and paths stay (their blocks must then be cleared). */
    struct roster_arena *blocks_arena;
};

/* Parses text[body_off..len) (text is the whole normalized file, so line
 * numbers are file lines). Fence repairs are reported to diags as warnings.
 * Everything is allocated in arena. Fails with err->diag set on input that
 * exceeds a limit. */
int roster_markdown_parse(struct roster_md *out, struct roster_arena *arena, const char *text,
                          size_t len, size_t body_off, const struct roster_md_opts *opts,
                          struct roster_diags *diags, struct roster_error *err);

#endif
