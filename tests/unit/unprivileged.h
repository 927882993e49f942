/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For tests of files a user may not write: root may write anything, so as
 * root the check runs in a child as nobody. Header-only: the test files
 * that use it link nothing else in common.
 */
#ifndef QLITE_TEST_UNPRIVILEGED_H
#define QLITE_TEST_UNPRIVILEGED_H

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

/*
 * Run check(arg), which returns 0 when what it saw is right, as a user
 * without root's powers over files. 0, or non-zero when the check failed
 * (or the child could not become nobody).
 */
static inline int run_unprivileged(int (*check)(void *arg), void *arg)
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		return check(arg);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		_exit(check(arg) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}

#endif
