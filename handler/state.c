/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *state_dir(void)
{
	const char *d = getenv("SVM_STATE_DIR");

	return d && *d ? d : "/var/lib/tcmu-svm";
}

/* <state>/stores/<path with '%' as %25 and '/' as %2F>: one name per path. */
char *svm_state_store_record_path(const char *path)
{
	size_t n = strlen(state_dir()) + sizeof("/stores/") + 3 * strlen(path);
	char *out = malloc(n), *p;

	if (!out)
		return NULL;
	p = out + sprintf(out, "%s/stores/", state_dir());
	for (; *path; path++) {
		if (*path == '/' || *path == '%')
			p += sprintf(p, "%%%02X", (unsigned char)*path);
		else
			*p++ = *path;
	}
	*p = '\0';
	return out;
}

bool svm_state_store_known(const char *path)
{
	char *rec = svm_state_store_record_path(path);
	bool known = rec && access(rec, F_OK) == 0;

	free(rec);
	return known;
}

int svm_state_store_record(const char *path)
{
	char *rec = svm_state_store_record_path(path), dir[4096];
	int fd, ret = 0;

	if (!rec)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s", state_dir());
	if (mkdir(dir, 0700) && errno != EEXIST)
		ret = -errno;
	strncat(dir, "/stores", sizeof(dir) - strlen(dir) - 1);
	if (!ret && mkdir(dir, 0700) && errno != EEXIST)
		ret = -errno;
	if (!ret) {
		fd = open(rec, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			ret = -errno;
		else
			close(fd);
	}
	free(rec);
	return ret;
}
