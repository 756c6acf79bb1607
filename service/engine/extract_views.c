/* Anti-patterns and the section list. */
#include "roster_extract.h"

#include <string.h>
#include <strings.h>

#include "extract_util.h"
#include "roster_base.h"
#include "roster_doc.h"
#include "roster_text.h"

static const char *const L_AVOID[] = {"DO NOT", "DON'T", "DONT", "AVOID", "NEVER", NULL};
static const char *const L_ALWAYS[] = {"ALWAYS", "DO", "PREFER", NULL};

enum mode { M_NONE, M_AVOID, M_ALWAYS };

struct marker {
    const char *bytes;
    enum mode mode;
};

/* Leading markers, removed from items; U+FE0F after them is dropped too. */
static const struct marker MARKERS[] = {
    {"\xE2\x9D\x8C", M_AVOID}, /* U+274C cross mark */
    {"\xF0\x9F\x9A\xAB", M_AVOID}, /* U+1F6AB no entry sign */
    {"\xE2\x9B\x94", M_AVOID}, /* U+26D4 no entry */
    {"\xE2\x9C\x97", M_AVOID}, /* U+2717 ballot x */
    {"\xE2\x9C\x85", M_ALWAYS}, /* U+2705 check mark button */
    {"\xE2\x9C\x94", M_ALWAYS}, /* U+2714 heavy check mark */
    {"\xE2\x9C\x93", M_ALWAYS}, /* U+2713 check mark */
    {NULL, M_NONE},
};

static enum mode strip_marker(const char **s, size_t *n)
{
    for (const struct marker *m = MARKERS; m->bytes; m++) {
        size_t ml = strlen(m->bytes);
        if (*n >= ml && memcmp(*s, m->bytes, ml) == 0) {
            *s += ml;
            *n -= ml;
            if (*n >= 3 && memcmp(*s, "\xEF\xB8\x8F", 3) == 0)
                *s += 3, *n -= 3;
            roster_trim(s, n);
            return m->mode;
        }
    }
    return M_NONE;
}

/* Mode named by a label such as "**DO NOT:**" or "Always:" (or M_NONE). */
static enum mode label_mode(const char *s, size_t n)
{
    const char *label = s, *rest;
    size_t llen = n, rlen;
    if (ex_bold_label(s, n, &label, &llen, &rest, &rlen) && rlen)
        return M_NONE; /* bold label followed by more text: not a label */
    while (llen && (label[llen - 1] == ':' || label[llen - 1] == ' '))
        llen--;
    for (const char *const *t = L_AVOID; *t; t++)
        if (roster_slice_ieq(label, llen, *t))
            return M_AVOID;
    for (const char *const *t = L_ALWAYS; *t; t++)
        if (roster_slice_ieq(label, llen, *t))
            return M_ALWAYS;
    return M_NONE;
}

static int add_items(const struct roster_secref *ref, const struct roster_block *list,
                     enum mode mode, json_t *avoid, json_t *always)
{
    for (const struct roster_block *li = list->first; li; li = li->next) {
        const struct roster_block *para = ex_item_para(li);
        if (!para || !para->text_len)
            continue;
        const char *s = para->text;
        size_t n = para->text_len;
        enum mode m = strip_marker(&s, &n);
        if (m == M_NONE)
            m = mode == M_NONE ? M_AVOID : mode;
        json_t *item = json_pack("{s:s%}", "text", s, n);
        if (roster_json_push(m == M_ALWAYS ? always : avoid, ex_from(item, ref)))
            return -1;
    }
    return 0;
}

json_t *roster_extract_anti_patterns(const struct roster_profile *p)
{
    json_t *avoid = json_array(), *always = json_array();
    int bad = !avoid || !always;
    for (size_t k = ex_find_section(p, 0, ROSTER_VIEW_ANTI_PATTERNS); !bad && k < p->nsecs;
         k = ex_find_section(p, k + 1, ROSTER_VIEW_ANTI_PATTERNS)) {
        size_t end = ex_subtree_end(p, k);
        for (size_t c = k; c < end && !bad; c++) {
            const struct roster_section *sec = p->secs[c].sec;
            /* a sub-heading "Always" / "Avoid" sets the mode too */
            enum mode mode = c == k ? M_NONE : label_mode(sec->title, strlen(sec->title));
            FOR_SECTION_BLOCKS(b, sec)
            {
                if (b->kind == ROSTER_BLOCK_P) {
                    enum mode m = label_mode(b->text, b->text_len);
                    if (m != M_NONE)
                        mode = m;
                } else if (b->kind == ROSTER_BLOCK_UL || b->kind == ROSTER_BLOCK_OL) {
                    bad = bad || add_items(&p->secs[c], b, mode, avoid, always);
                }
            }
        }
    }
    return json_pack("{s:o, s:o}", "avoid", avoid, "always", roster_json_unless(bad, always));
}

json_t *roster_extract_sections(const struct roster_profile *p)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < p->nsecs; k++) {
        const struct roster_secref *r = &p->secs[k];
        const struct roster_section *s = r->sec;
        const struct roster_section *parent =
            s->parent >= 0 ? &r->doc->md.sections[s->parent] : NULL;
        json_t *o = json_object();
        if (!o || roster_json_set(o, "title", json_string(s->title)) ||
            roster_json_set(o, "level", json_integer(s->level)) ||
            roster_json_set(o, "slug", json_string(s->slug)) ||
            roster_json_set(o, "path", json_string(s->path)) ||
            roster_json_set(o, "parent", parent ? json_string(parent->path) : json_null()) ||
            roster_json_set(o, "line", json_integer(s->line)) ||
            roster_json_set(o, "from", json_string(r->doc->id)) ||
            roster_json_set(o, "file", json_string(r->doc->relpath)) ||
            roster_json_set(o, "markdown", ex_section_markdown(r, 1))) {
            json_decref(o);
            json_decref(a);
            return NULL;
        }
        if (roster_json_push(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
