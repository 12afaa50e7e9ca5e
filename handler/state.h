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

/* True if path has served a LUN before (a record exists). */
bool svm_state_store_known(const char *path);
/* Record that path serves a LUN. Returns 0 or -errno. */
int svm_state_store_record(const char *path);
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
