/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What svmctl checks about a migration's destination before it asks the
 * handler to migrate (the handler checks again, and is authoritative).
 * Each check returns 0, or -errno with *reason set to a g_malloc'd sentence
 * that names the path and says what to do.
 */
#ifndef CLI_DEST_H
#define CLI_DEST_H

#include <stdbool.h>

#include <stdint.h>

/* The longest destination path: "svm/" plus the path fit the kernel's 255-byte dev_config. */
#define CLI_DEST_PATH_MAX 251

/*
 * The path's text: absolute, at most CLI_DEST_PATH_MAX bytes, none of the
 * characters a cfgstring cannot carry (',' ';' ':', white space, control
 * characters). Pure; never blocks.
 */
int cli_dest_check_syntax(const char *path, char **reason);
/*
 * Whether path names an RBD store, rbd/<pool>/<image> (docs/cfgstring.md).
 * Such a destination passes cli_dest_check_syntax when it has that form
 * (two non-empty names, no '@' or cfgstring separator), and
 * cli_dest_check_place without a look: it lives in a Ceph cluster, which
 * the handler reaches with the LUN's conf= and id= and checks (created if
 * missing, refused if it holds data or another client holds it). Pure.
 */
bool cli_dest_is_rbd(const char *path);

/*
 * What is at the path: its directory exists; and nothing is there yet, or
 * an empty regular file, or a block device that nothing holds open
 * exclusively (not mounted, not an LVM or RAID member) and that carries no
 * filesystem, partition table, LVM, RAID, LUKS or swap signature. Refused:
 * a non-empty file, a directory, a symbolic link to nothing, anything else.
 * Blocks on stat(2), and for a block device on open(2) and a 136 KiB read.
 */
int cli_dest_check_place(const char *path, char **reason);

/*
 * The destination is not source, the store the LUN serves: not the same
 * file (also through symbolic links and hard links), not the same block
 * device (also through another device node), and, when either does not
 * exist, not the same canonical name. Blocks on stat(2) and realpath(3).
 */
int cli_dest_check_not_source(const char *path, const char *source, char **reason);

/*
 * The kind of signature the store open as fd (size bytes long) starts or
 * ends with, e.g. "an ext2/3/4 filesystem", or NULL when it has none that
 * svmctl knows. Works on regular files as on block devices. Blocks on
 * pread(2).
 */
const char *cli_dest_signature(int fd, uint64_t size);

#endif
