/* Command-line subcommands; each returns the process exit code
 * (0 ok, 1 failure or errors found, 2 usage error). */
#ifndef ROSTER_CLI_H
#define ROSTER_CLI_H

#include <stddef.h>

#include "roster_render.h"

struct roster_diags;
struct roster_profile;

int roster_cli_check(int argc, char **argv);
int roster_cli_render(int argc, char **argv);
int roster_cli_export(int argc, char **argv);
int roster_cli_serve(int argc, char **argv);
int roster_cli_healthcheck(int argc, char **argv);

int roster_cli_representation(const struct roster_profile *p, const struct roster_diags *diags,
                              enum roster_view v, char **out, size_t *len);

#endif
