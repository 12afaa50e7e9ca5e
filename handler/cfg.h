/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LUN's configuration string. LIO keeps it as "svm/<cfgstring>" (the
 * device's dev_config); targetcli's cfgstring is the part after "svm/":
 *
 *   <source>[;conf=<ceph.conf>][;id=<client-id>][;dst=<dest-path>][;create=yes|no]
 *           [;wce=yes|no][;mover=auto|bounce|kernel|reflink][;xcopy_group=<name>]
 *           [;direct=yes|no][;svm_log=<path>]
 *
 * The source is an absolute path (a file or block device) or an RBD image
 * rbd/<pool>/<image> (store_rbd.h); conf= and id= are its cluster's
 * configuration file and client id, and only for an RBD source.
 *
 * Elements are separated by ';', tcmu-runner's own convention: the kernel
 * cuts a dev_config at its first ',' (its control parser splits on ','
 * and drops what it does not know), so ',' is refused with a reason that
 * says so. Also refused: ':' and whitespace (rtslib refuses ':', and
 * saveconfig cannot read a string with blanks back), and a dev_config
 * longer than the kernel keeps (SVM_DEV_CONFIG_MAX). Paths are absolute.
 * Keys may appear once each. tcmu-runner's own key tcmur_cmd_time_out=<s>
 * is accepted and left to the runner. docs/cfgstring.md is the user-facing
 * description.
 */
#ifndef SVM_CFG_H
#define SVM_CFG_H

#include "../xcopy/mover.h"

#include <stdbool.h>
#include <stddef.h>

struct svm_cfg {
	char *src;	   /* source store path; never NULL after a successful parse */
	char *dst;	   /* destination store path, or NULL */
	bool create;	   /* create the source file if absent (default yes) */
	bool wce;	   /* volatile write cache when the LUN is created (default yes) */
	enum svm_mover_kind mover; /* datamover for copies (mover=; default auto) */
	char *xcopy_group; /* copy group for cross-LUN EXTENDED COPY, or NULL (none) */
	char *svm_log;	   /* the SVM log file (svm_log=), or NULL: the default */
	char *conf;	   /* an RBD source's ceph.conf (conf=), or NULL: /etc/ceph/ceph.conf */
	char *id;	   /* an RBD source's client id (id=), or NULL: admin */
	bool direct;	   /* large reads that miss the page cache use O_DIRECT (direct=; default yes) */
	unsigned cmd_time_out; /* tcmu-runner's tcmur_cmd_time_out=, kept to write it back */
	bool has_cmd_time_out;
};

/*
 * Parse a cfgstring (without the "svm/" prefix) into cfg. Pure string
 * work: no I/O, never blocks. Returns 0, or -EINVAL with *reason set to a
 * malloc'd sentence (caller frees) and cfg left empty. On success free
 * with svm_cfg_free().
 */
int svm_cfg_parse(const char *str, struct svm_cfg *cfg, char **reason);

/*
 * As svm_cfg_parse for the string the runner and the kernel carry:
 * "svm/<cfgstring>", at most SVM_DEV_CONFIG_MAX bytes, one trailing
 * newline tolerated (an `echo` into configfs dev_config). Pure.
 */
int svm_cfg_parse_dev_config(const char *dev_config, struct svm_cfg *cfg, char **reason);

/*
 * Check a parsed cfg against the filesystem, without creating or changing
 * anything (an RBD source is not looked up: the cluster is asked when the
 * store opens): the source exists (or may be created in an existing writable
 * directory), is a regular file or block device, is readable and writable;
 * the destination, if any, is not the source. Blocks on stat(2).
 * Returns 0, or -errno with *reason set to a malloc'd sentence.
 */
int svm_cfg_check_paths(const struct svm_cfg *cfg, char **reason);

/*
 * Whether an open LUN configured by cur may take next live (a dev_config
 * written on a running LUN, restoreconfig among them): the same source
 * store (also through another name for it), the same wce= (the write cache
 * changes through emulate_write_cache) and direct=, a valid destination. dst=,
 * create=, mover=, xcopy_group= and svm_log= may change. Returns 0, or
 * -EINVAL with *reason. Blocks on stat(2).
 */
int svm_cfg_check_live_change(const struct svm_cfg *cur, const struct svm_cfg *next,
			      char **reason);

void svm_cfg_free(struct svm_cfg *cfg);

/*
 * The dev_config ("svm/<cfgstring>") that says what cfg says: the source,
 * then each key that is not at its default, in the order of cfg.h's
 * synopsis. Pure. 0, or -ENAMETOOLONG if it does not fit len or the
 * kernel's SVM_DEV_CONFIG_MAX.
 */
int svm_cfg_format(const struct svm_cfg *cfg, char *buf, size_t len);

/*
 * Whether paths a and b name one store: the same inode or block device,
 * or (one does not exist yet) the same canonical path. Blocks on stat(2).
 */
bool svm_cfg_same_store(const char *a, const char *b);

/*
 * Parse a thread count setting (SVM_THREADS, SVM_LUN_THREADS; var names it
 * in the reason): a decimal number from 1 to SVM_THREADS_MAX. Pure, never
 * blocks. Returns 0 with *out set, or -EINVAL with *reason set to a
 * malloc'd sentence.
 */
int svm_cfg_parse_threads(const char *var, const char *str, unsigned *out, char **reason);

/* asprintf into *reason (if reason is non-NULL); returns err, for one-line error exits. */
int svm_reason(char **reason, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
