/* Warnings about a merged profile, on its own file: its `inherit` entries
 * and the role statements of its composed prompt. */
#include "resolve_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_template.h"

/* 1 when section s of d has text of its own (an H1's role statement). */
static int has_own_text(const struct roster_doc *d, const struct roster_section *s)
{
    for (size_t k = s->body; k < s->end && k < d->text_len; k++)
        if (!strchr(" \t\n\r\f\v", d->text[k]))
            return 1;
    return 0;
}

/* More than one H1 with a statement in the composed prompt: contradictory
 * "You are ..." paragraphs the role view does not show. */
static int check_roles(const struct roster_profile *p, struct roster_diags *diags)
{
    char list[600], fix[400];
    size_t used = 0, fused = 0, count = 0, inherited = 0;
    unsigned line = 1;
    for (size_t k = 0; k < p->nsecs; k++) {
        const struct roster_secref *r = &p->secs[k];
        if (r->sec->level != 1 || !has_own_text(r->doc, r->sec))
            continue;
        count++;
        if (r->doc == p->doc)
            line = r->sec->line;
        int w = snprintf(list + used, sizeof(list) - used, "%s\"%.80s\" (%s:%u)", used ? ", " : "",
                         r->sec->title, r->doc->relpath, r->sec->line);
        if (w > 0 && (size_t)w < sizeof(list) - used)
            used += (size_t)w;
        if (r->doc == p->doc)
            continue;
        inherited++;
        w = snprintf(fix + fused, sizeof(fix) - fused, "%s\"%.80s\": drop", fused ? ", " : "",
                     r->sec->title);
        if (w > 0 && (size_t)w < sizeof(fix) - fused)
            fused += (size_t)w;
    }
    if (count < 2 || !inherited)
        return 0;
    return roster_diags_add(diags, ROSTER_SEV_WARNING, "prompt.multiple_roles", p->doc->relpath,
                            line, 1, p->doc->id,
                            "the composed prompt has %zu role statements (H1 sections with text): "
                            "%s; keep one with `inherit: {%s}`",
                            count, list, fix);
}

/* 1 when an ancestor of p (not p itself) has a section that key names. */
static int inherited_title(const struct roster_profile *p, const char *key)
{
    for (size_t c = 0; c + 1 < p->nchain; c++) {
        const struct roster_doc *d = p->chain[c];
        for (size_t i = 0; i < d->md.nsections; i++)
            if (roster_merge_names_section(key, d->md.sections[i].title))
                return 1;
    }
    return 0;
}

/* The profile's own `inherit`: a mapping of inherited section titles to
 * replace, append or drop. */
static int check_inherit(const struct roster_profile *p, struct roster_diags *diags)
{
    const struct roster_doc *d = p->doc;
    json_t *inh = json_object_get(d->meta, "inherit");
    unsigned line = d->inherit_line ? d->inherit_line : 1;
    if (!inh || json_is_null(inh))
        return 0;
    if (!json_is_object(inh))
        return roster_diags_add(diags, ROSTER_SEV_WARNING, "inherit.invalid", d->relpath, line, 1,
                                d->id,
                                "inherit must be a mapping of inherited section titles to "
                                "replace, append or drop; it is ignored");
    const char *k;
    json_t *v;
    int r = 0;
    json_object_foreach(inh, k, v)
    {
        const char *m = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(m, "replace") && strcmp(m, "append") && strcmp(m, "drop"))
            r = roster_diags_add(diags, ROSTER_SEV_WARNING, "inherit.invalid", d->relpath, line, 1,
                                 d->id,
                                 "inherit \"%.80s\": the mode must be replace, append or drop; "
                                 "the section is replaced",
                                 k);
        else if (!inherited_title(p, k))
            r = roster_diags_add(diags, ROSTER_SEV_WARNING, "inherit.unknown_section", d->relpath,
                                 line, 1, d->id,
                                 "inherit \"%.80s\": no inherited section has this title%s", k,
                                 p->nchain > 1 ? "" : " (the profile extends nothing)");
        if (r < 0)
            return r;
    }
    return 0;
}

int roster_merge_check(const struct roster_profile *p, struct roster_diags *diags)
{
    int r = check_inherit(p, diags);
    if (r == 0)
        r = check_roles(p, diags);
    return r < 0 ? r : roster_template_check(p, diags);
}
