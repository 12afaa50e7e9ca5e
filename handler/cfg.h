/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LUN's configuration string (targetcli's cfgstring, without the
 * "svm/" subtype prefix the runner adds):
 *
 *   <source-path>[,dst=<dest-path>][,create=yes|no][,wce=yes|no]
 *
 * Paths are absolute and may not contain ','. Keys may appear once each.
 * docs/cfgstring.md is the user-facing description.
 */
#ifndef SVM_CFG_H
#define SVM_CFG_H

#include <stdbool.h>

struct svm_cfg {
	char *src;   /* source store path; never NULL after a successful parse */
	char *dst;   /* destination store path, or NULL */
	bool create; /* create the source file if absent (default yes) */
	bool wce;    /* report a volatile write cache (default yes); no: every write is FUA */
};

/*
 * Parse str into cfg. Pure string work: no I/O, never blocks.
 * Returns 0, or -EINVAL with *reason set to a malloc'd sentence (caller frees)
 * and cfg left empty. On success free with svm_cfg_free().
 */
int svm_cfg_parse(const char *str, struct svm_cfg *cfg, char **reason);

/*
 * Check a parsed cfg against the filesystem, without creating or changing
 * anything: the source exists (or may be created in an existing writable
 * directory), is a regular file or block device, is readable and writable;
 * the destination, if any, is not the source. Blocks on stat(2).
 * Returns 0, or -errno with *reason set to a malloc'd sentence.
 */
int svm_cfg_check_paths(const struct svm_cfg *cfg, char **reason);

void svm_cfg_free(struct svm_cfg *cfg);

/*
 * Parse the SVM_THREADS setting (worker threads per LUN): a decimal number
 * from 1 to SVM_THREADS_MAX. Pure, never blocks. Returns 0 with *out set,
 * or -EINVAL with *reason set to a malloc'd sentence.
 */
int svm_cfg_parse_threads(const char *str, unsigned *out, char **reason);

/* asprintf into *reason (if reason is non-NULL); returns err, for one-line error exits. */
int svm_reason(char **reason, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
