/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `svmctl doctor`: checks that the stack a user:svm LUN needs is there —
 * the target_core_user module, configfs, tcmu-runner, the handler's
 * control socket, the handler's state directory — and says, per check,
 * OK or what is missing and how to fix it. Every check takes the places it
 * looks at as arguments, so tests can point it at a fake /proc.
 */
#ifndef CLI_DOCTOR_H
#define CLI_DOCTOR_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define CLI_DOCTOR_STATE_DIR "/var/lib/tcmu-svm"

/*
 * Each check below returns true when it passed, and sets *msg to a
 * g_malloc'd sentence: what it found, or what is missing and how to fix it.
 */

/* Kernel module name is loaded or built in (libkmod). Blocks on sysfs and modules.* reads. */
bool cli_doctor_module(const char *name, char **msg);

/* A configfs is mounted on mountpoint, per the mounts table at path (/proc/mounts). Blocks (read).
 */
bool cli_doctor_configfs(const char *mounts, const char *mountpoint, char **msg);

/*
 * The pid of a process whose comm is comm, from the proc directory (/proc),
 * or 0 if none. Blocks on reading proc.
 */
pid_t cli_doctor_find_process(const char *proc, const char *comm);

/* A process named comm runs (cli_doctor_find_process). Blocks on reading proc. */
bool cli_doctor_process(const char *proc, const char *comm, char **msg);

/*
 * Variable name in the environment of process pid, from <proc>/<pid>/environ:
 * a g_malloc'd value, or NULL when unset or unreadable. Blocks (read).
 */
char *cli_doctor_process_env(const char *proc, pid_t pid, const char *name);

/* The handler answers `list` on socket within timeout_ms. Blocks up to twice timeout_ms. */
bool cli_doctor_handler(const char *socket, int timeout_ms, char **msg);

/* dir exists, is a directory and takes a new file (one is made and removed). Blocks. */
bool cli_doctor_state_dir(const char *dir, char **msg);

struct cli_doctor_env {
	const char *proc;      /* "/proc" */
	const char *module;    /* "target_core_user" */
	const char *configfs;  /* "/sys/kernel/config" */
	const char *runner;    /* "tcmu-runner" */
	const char *socket;    /* the control socket */
	bool socket_given;     /* --socket: do not suggest tcmu-runner's SVM_RUN_DIR instead */
	int timeout_ms;	       /* for the socket */
	const char *state_dir; /* NULL: tcmu-runner's SVM_STATE_DIR, else ours, else the default */
};

/*
 * Run every check in turn, printing one line per check to out ("[ OK ]" or
 * "[FAIL]", then the sentence) and a closing summary. Blocks (see the
 * checks). Returns the number of checks that failed.
 */
int cli_doctor_run(const struct cli_doctor_env *env, FILE *out);

#endif
