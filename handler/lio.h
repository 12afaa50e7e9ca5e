/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What LIO's configfs says about the TCMU device behind a LUN, and the one
 * attribute the handler writes itself. Plain file I/O on sysfs and configfs,
 * no tcmu dependency; every call blocks briefly on a small read or write.
 * Paths are prefixed with svm_lio_root: "" in production, a fake tree in
 * the unit tests. Returns 0 or -errno unless said otherwise.
 */
#ifndef SVM_LIO_H
#define SVM_LIO_H

#include <stddef.h>

extern const char *svm_lio_root;

/*
 * The device's configfs directory, e.g. /sys/kernel/config/target/core/
 * user_1/lun0, found through its UIO device ("uio0"), whose sysfs name is
 * "tcm-user/<hba>/<device>/<subtype>/<cfgstring>".
 */
int svm_lio_dev_dir(const char *uio, char *dir, size_t len);

/* The unit serial (wwn/vpd_unit_serial) into buf; "" when none is set. */
int svm_lio_serial(const char *dir, char *buf, size_t len);

/* 1 once LIO has configured (enabled) the device, 0 while that is under way, or -errno. */
int svm_lio_enabled(const char *dir);

/* attrib/<name>: read (trailing newline removed) or write. */
int svm_lio_attr_get(const char *dir, const char *name, char *buf, size_t len);
int svm_lio_attr_set(const char *dir, const char *name, const char *val);

#endif
