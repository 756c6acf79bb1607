/* Option parsing shared by the subcommands (roster_cli.h). */
#include "roster_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *roster_cli_default_profiles(void)
{
    const char *env = getenv("ROSTER_PROFILES");
    return env && *env ? env : "./profiles";
}

int roster_cli_usage(const char *cmd, const char *msg)
{
    fprintf(stderr, "rosterd %s: %s\nTry 'rosterd --help'.\n", cmd, msg);
    return 2;
}

static const struct roster_cli_opt *find(const struct roster_cli_opt *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

int roster_cli_parse(const char *cmd, int argc, char **argv, const struct roster_cli_opt *opts,
                     const char **positional)
{
    for (int i = 1; i < argc; i++) {
        const struct roster_cli_opt *o = find(opts, argv[i]);
        if (o && o->flag) {
            *o->flag = 1;
        } else if (o && o->list && i + 1 < argc) {
            if (*o->count == o->max) {
                char msg[100];
                snprintf(msg, sizeof(msg), "%s given more than %zu times", o->name, o->max);
                return roster_cli_usage(cmd, msg);
            }
            o->list[(*o->count)++] = argv[++i];
        } else if (o && i + 1 < argc) {
            *o->value = argv[++i];
        } else if (!o && argv[i][0] != '-' && positional && !*positional) {
            *positional = argv[i];
        } else {
            char msg[300];
            snprintf(msg, sizeof(msg), "%s option '%.200s'", o ? "incomplete" : "unknown", argv[i]);
            return roster_cli_usage(cmd, msg);
        }
    }
    return 0;
}
