/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open LUNs of this tcmu-runner, for EXTENDED COPY between LUNs. The
 * runner keeps its device list to itself, so the plugin adds each LUN here
 * when it opens and removes it when it closes. A copy's target descriptors
 * name LUNs by the NAA designator they report (VPD page 0x83).
 *
 * TCMU does not tell the handler which initiator sent a command, so it
 * cannot check that the initiator may reach the other LUN. A copy between
 * two LUNs is therefore allowed only when both name the same copy group
 * (cfgstring xcopy_group=): the admin's statement that whoever reaches one
 * may copy to and from the others. A LUN without a group copies only within
 * itself. (An unrestricted lookup was LIO's CVE-2020-28374.) docs/xcopy.md.
 *
 * Thread-safe. No tcmu dependency.
 */
#ifndef SVM_REGISTRY_H
#define SVM_REGISTRY_H

#include "lun.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Add lun, in group (NULL or "": none). 0 or -ENOMEM. Never blocks on I/O. */
int svm_registry_add(struct svm_lun *lun, const char *group);
/* Change lun's group (a dev_config accepted live). 0 or -ENOMEM (the group is then unchanged). */
int svm_registry_set_group(struct svm_lun *lun, const char *group);
/* Remove lun; waits until no copy holds it (copies are bounded in time). Blocks. */
void svm_registry_remove(struct svm_lun *lun);

enum svm_registry_match {
	SVM_REGISTRY_FOUND,	/* *out is held: svm_registry_put() it */
	SVM_REGISTRY_NOT_FOUND, /* no open LUN reports that designator */
	SVM_REGISTRY_NO_GROUP,	/* it exists, but shares no copy group with from */
};

/*
 * The LUN whose NAA designator is naa (len bytes), as seen from the LUN
 * from that runs the copy: from itself always matches; another LUN only
 * when both are in the same group. May read a LUN's serial from its
 * identity source (blocks briefly).
 */
enum svm_registry_match svm_registry_get(const uint8_t *naa, size_t len, struct svm_lun *from,
					 struct svm_lun **out);
void svm_registry_put(struct svm_lun *lun);

#endif
