/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handler's state directory (default /var/lib/tcmu-svm, or
 * $SVM_STATE_DIR). It remembers which store files have served a LUN, so
 * that a store that later goes missing (a filesystem not mounted at boot, a
 * deleted file) is refused instead of being re-created empty, and keeps the
 * records of migrations (migrec.h).
 * Calls block on small filesystem operations.
 */
#ifndef SVM_STATE_H
#define SVM_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* True if path has served a LUN before (a record exists). */
bool svm_state_store_known(const char *path);
/* Record that path serves a LUN. Returns 0 or -errno. */
int svm_state_store_record(const char *path);
/*
 * A migration switched path's LUN over to store to and deleted path: its
 * record says so ("moved <to>"), written whole (a rename) and synced, so a
 * LUN later configured with the old path (a saveconfig from before the
 * migration) opens to, not a new empty store. 0 or -errno.
 */
int svm_state_store_moved(const char *path, const char *to);
/* The store path moved to, into buf. 0; -ENOENT if it has not moved (or no record); -errno. */
int svm_state_store_moved_to(const char *path, char *buf, size_t len);
/* The record's file name for path, for messages; malloc'd or NULL. */
char *svm_state_store_record_path(const char *path);

/*
 * <state>/<sub>/<path, with '%' as %25 and '/' as %2F>: one file name per
 * store path, in the state directory's subdirectory sub. malloc'd or NULL.
 */
char *svm_state_path(const char *sub, const char *path);
/* Create the state directory and its subdirectory sub (mode 0700) if missing. 0 or -errno. */
int svm_state_mkdir(const char *sub);

#endif
