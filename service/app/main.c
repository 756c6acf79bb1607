/* rosterd: dispatch to the subcommands. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"

#include "roster_cli.h"
#include "roster_render.h"
#include "roster_version.h"

/* `rosterd mcp` (app/mcp_stdio.c) */

static void help(FILE *f)
{
    fputs("usage: rosterd COMMAND [OPTIONS]\n"
          "\n"
          "Serves agent worker profiles (Markdown with YAML front matter) as JSON.\n"
          "\n"
          "commands:\n"
          "  serve        run the HTTP server (rosterd serve --help)\n"
          "  check        report every diagnostic of the profiles directory\n"
          "               [--profiles DIR] [--format text|json|github] [--strict-markdown]\n"
          "               [--ignore CODE[,CODE]] (repeatable; warnings only, never errors)\n"
          "               file names: text from the current directory, github from the\n"
          "               repository ($GITHUB_WORKSPACE, else the .git above the profiles),\n"
          "               json from the profiles directory (as GET /v1/diagnostics)\n"
          "               a profile silences its own: lint: {ignore: [CODE, ...]}\n"
          "               exit 0 without errors, 1 with errors, 2 on usage errors\n"
          "  render ID    print one resolved profile, the bytes the server sends\n"
          "               [--profiles DIR] [--view NAME] [--scope own|inherited|all]\n"
          "               [--strict-markdown] (views below; profile is the default;\n"
          "               --scope keeps the items authored in it or inherited)\n"
          "  export OUT   write every representation the server sends as files\n"
          "               [--profiles DIR]\n"
          "  diff OLD NEW what changes between two profiles directories, per resolved\n"
          "               profile: items added/removed/moved (with from), fields, prompt\n"
          "               diff; [--format text|json|markdown|github] [--strict-markdown]\n"
          "               exit 0 no change, 1 changes (or profile errors), 2 on errors\n"
          "  history ID   the versions of a profile in a history store, newest first,\n"
          "               verified; [--history-dir DIR] (or ROSTER_HISTORY_DIR)\n"
          "               [--format text|json]; corrupt files on stderr as\n"
          "               FILE: history.corrupt: REASON; exit 0 with versions, 1 without\n"
          "  healthcheck  GET /health of a running server; exit 0 when it answers 200\n"
          "               [--url URL] (default from ROSTER_LISTEN, else 127.0.0.1:8080)\n"
          "  routes       print the HTTP route table, one JSON object per line\n"
          "  mcp          a Model Context Protocol server on stdin/stdout (docs/mcp.md)\n"
          "               [--profiles DIR] [--strict-markdown] [--page-size N] [--no-watch]\n"
          "               newline-delimited JSON-RPC; logs JSON lines on stderr; exit 0 on EOF\n"
          "\n"
          "environment: ROSTER_PROFILES sets the default profiles directory (./profiles).\n"
          "options: --help, --version\n",
          f);
    char views[256];
    roster_view_names(views, sizeof(views), 1u << ROSTER_VIEW_SOURCE);
    fprintf(f, "views: %s\n", views);
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} COMMANDS[] = {
    {"check", roster_cli_check},
    {"render", roster_cli_render},
    {"export", roster_cli_export},
    {"serve", roster_cli_serve},
    {"healthcheck", roster_cli_healthcheck},
    {"routes", roster_cli_routes},
    {"mcp", roster_cli_mcp},
    {"diff", roster_cli_diff},
    {"history", roster_cli_history},
};

int main(int argc, char **argv)
{
    /* every allocation, jansson's included, goes through roster_malloc */
    json_set_alloc_funcs(roster_malloc, roster_free);
    if (argc < 2) {
        help(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("rosterd %s (%s)\n", ROSTER_VERSION, ROSTER_REVISION);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 && strcmp(cmd, "serve") != 0) {
            help(stdout);
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
        if (strcmp(cmd, COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "rosterd: unknown command '%s'\nTry 'rosterd --help'.\n", cmd);
    return 2;
}
