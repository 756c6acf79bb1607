/* Command-line subcommands; each returns the process exit code
 * (0 ok, 1 failure or errors found, 2 usage error). */
#ifndef ROSTER_CLI_H
#define ROSTER_CLI_H

#include <stddef.h>
#include <stdio.h>

int roster_cli_check(int argc, char **argv);
int roster_cli_render(int argc, char **argv);
int roster_cli_export(int argc, char **argv);
/* `rosterd diff OLD NEW`: what changes between two profiles directories,
 * after inheritance (docs/versions.md); exit 0 no change, 1 changes or
 * profiles with errors, 2 on usage errors or an unreadable directory. */
int roster_cli_diff(int argc, char **argv);
int roster_cli_serve(int argc, char **argv);
/* `rosterd history ID`: the versions of a profile in a history store
 * (docs/versions.md); exit 0 with versions, 1 without, 2 on usage errors. */
int roster_cli_history(int argc, char **argv);
int roster_cli_healthcheck(int argc, char **argv);
/* `rosterd mcp`: the MCP server over stdio (docs/mcp.md). */
int roster_cli_mcp(int argc, char **argv);
/* `rosterd routes`: the route table (roster_routes) as JSON lines. */
int roster_cli_routes(int argc, char **argv);

/* One option of a subcommand: --name VALUE sets *value, or a flag sets
 * *flag to 1. A list of them ends with {NULL}. */
struct roster_cli_opt {
    const char *name;
    const char **value;
    int *flag;
    /* a repeatable option: each value goes to list[(*count)++], at most max */
    const char **list;
    size_t *count;
    size_t max;
};

/* Parses argv[1..argc) against opts; a bare word fills *positional once
 * (when positional is not NULL). Returns 0, or 2 after printing the usage
 * error. */
int roster_cli_parse(const char *cmd, int argc, char **argv, const struct roster_cli_opt *opts,
                     const char **positional);
/* Prints "rosterd CMD: MSG" and the help hint; returns 2. */
int roster_cli_usage(const char *cmd, const char *msg);
/* Writes and flushes all of s; 0 or -1. */
int roster_cli_write(FILE *f, const char *s, size_t n);
/* What to put before a path relative to dir so that it opens from base
 * (the current directory: "."), into out. */
void roster_cli_dir_prefix(const char *dir, const char *base, char *out, size_t cap);
/* $ROSTER_PROFILES, else ./profiles. */
const char *roster_cli_default_profiles(void);

#endif
