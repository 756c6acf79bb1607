/* Shared between resolve.c and merge.c. */
#ifndef ROSTER_RESOLVE_INTERNAL_H
#define ROSTER_RESOLVE_INTERNAL_H

#include "roster_resolve.h"

/* Builds p's chain, merged front matter, resolved sections and prompt
 * (p->parents is set and every parent is already merged). Takes them from
 * `old` (the previous resolution of the same doc) when p's chain is the
 * same documents: they are made of those documents only. */
int roster_merge_profile_from(struct roster_resolution *res, struct roster_profile *p,
                              const struct roster_profile *old);

/* 1 when an inherit key or a section title names the section `title`: the
 * same title (case-insensitive), or both name the same view ("Tools" and
 * "Tool Priorities"). */
int roster_merge_names_section(const char *key, const char *title);

/* Warnings about a merged profile, on its own file: an `inherit` entry
 * that names no inherited section or no mode, and more than one role
 * statement in the composed prompt. */
struct roster_diags;
int roster_merge_check(const struct roster_profile *p, struct roster_diags *diags);

#endif
