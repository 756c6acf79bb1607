/* Inheritance: resolving `extends`, merging front matter and sections,
 * and composing the prompt. */
#ifndef ROSTER_RESOLVE_H
#define ROSTER_RESOLVE_H

#include <stddef.h>

struct roster_doc;
struct roster_index;
struct roster_section;
typedef struct json_t json_t;

#define ROSTER_MAX_HOPS 10

struct roster_secref {
    const struct roster_doc *doc; /* the file that supplied it ("from") */
    const struct roster_section *sec;
};

struct roster_profile {
    struct roster_doc *doc;
    int ok; /* resolved: the profile is served */
    struct roster_doc **chain; /* root first, the profile itself last */
    size_t nchain;
    struct roster_doc **parents; /* direct parents, as resolved */
    size_t nparents;
    json_t *meta; /* merged front matter */
    struct roster_secref *secs; /* resolved sections in order */
    size_t nsecs;
    char *prompt; /* composed prompt, LF endings */
    size_t prompt_len;
};

struct roster_resolution {
    struct roster_profile *profiles; /* one per index doc, same order */
    size_t n;
};

/* Resolves every doc of the index. Errors (missing parents, cycles, too
 * deep chains) are added to the index's diagnostics and leave that profile
 * unresolved; the function itself fails only on allocation failure. */
int roster_resolve(struct roster_resolution **out, struct roster_index *ix);
struct roster_resolution *roster_resolution_free(struct roster_resolution *res);

#endif
