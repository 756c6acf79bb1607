/* Command-line subcommands; each returns the process exit code
 * (0 ok, 1 failure or errors found, 2 usage error). */
#ifndef ROSTER_CLI_H
#define ROSTER_CLI_H

int roster_cli_check(int argc, char **argv);
int roster_cli_render(int argc, char **argv);
int roster_cli_export(int argc, char **argv);
int roster_cli_serve(int argc, char **argv);
int roster_cli_healthcheck(int argc, char **argv);
/* `rosterd routes`: the route table (roster_routes) as JSON lines. */
int roster_cli_routes(int argc, char **argv);

#endif
