/* SPDX-License-Identifier: GPL-2.0-only */
/* The commands of `qlite`, one file each (src/cmd/), listed in src/main.c. */
#ifndef QLITE_CMD_H
#define QLITE_CMD_H

#include <stdbool.h>
#include <stdio.h>

struct vm_spec;

/* Exit status of a bad command line or VM description. */
#define EXIT_CONFIG 2

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv after the command; returns the exit status */
};

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* The usage text of every command. */
void cmd_usage(FILE *out);
/* When argv[0] is --help or -h, print the command's usage on stdout and return true. */
bool cmd_wants_help(int argc, char **argv, const char *command);

/* Parse and validate `[FILE.conf] [--option value]...` into spec (initialised here). 0 or -errno. */
int cmd_parse_spec(struct vm_spec *spec, int argc, char **argv);

#endif
