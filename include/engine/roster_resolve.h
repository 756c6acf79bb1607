/* Inheritance: resolving `extends`, merging front matter and sections,
 * and composing the prompt. */
#ifndef ROSTER_RESOLVE_H
#define ROSTER_RESOLVE_H

#include <stddef.h>

struct roster_arena;
struct roster_doc;
struct roster_md;
struct roster_index;
struct roster_section;
typedef struct json_t json_t;

#define ROSTER_MAX_HOPS 10

struct roster_secref {
    const struct roster_doc *doc; /* the file that supplied it ("from") */
    const struct roster_section *sec;
};

/* A piece of a document's text (or a separator): the composed prompt
 * refers to the bytes of the files it inherits from instead of copying. */
struct roster_span {
    const char *text;
    size_t len;
};

struct roster_profile {
    struct roster_doc *doc;
    int ok; /* resolved: the profile is served */
    int carried; /* its merge was taken from the previous resolution (same documents) */
    struct roster_doc **chain; /* root first, the profile itself last */
    size_t nchain;
    struct roster_doc **parents; /* direct parents, as resolved */
    size_t nparents;
    json_t *meta; /* merged front matter */
    struct roster_secref *secs; /* resolved sections in order */
    size_t nsecs;
    struct roster_span *spans; /* the composed prompt, LF endings: pieces */
    size_t nspans; /* of the chain's texts, in order (roster_profile_prompt) */
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
/* The composed prompt of a resolved profile as one NUL-terminated string
 * of p->prompt_len bytes (roster_malloc), or NULL without memory. */
char *roster_profile_prompt(const struct roster_profile *p);
/* A profile whose sections carry their blocks again (the index keeps
 * sections only, roster_doc_opts.keep_blocks): profile is a copy of the
 * resolved one whose secs point into trees parsed again from the chain's
 * texts. Owns those trees until roster_expanded_release. */
struct roster_expanded {
    struct roster_profile profile;
    struct roster_arena **arenas; /* one per chain doc */
    struct roster_md *mds;
    struct roster_secref *secs;
    size_t n;
};
int roster_profile_expand(const struct roster_profile *p, struct roster_expanded *x);
void roster_expanded_release(struct roster_expanded *x);

/* The same for a new index of the same directory: a profile whose chain is
 * the same (shared, unchanged) documents as in prev takes prev's merge
 * instead of merging again. prev stays the caller's and must outlive
 * nothing: what is taken is copied or reference counted. */
int roster_resolve_from(struct roster_resolution **out, struct roster_index *ix,
                        const struct roster_resolution *prev);

struct roster_resolution *roster_resolution_free(struct roster_resolution *res);

#endif
