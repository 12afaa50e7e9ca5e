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

char *svm_state_path(const char *sub, const char *path)
{
	size_t n = strlen(state_dir()) + strlen(sub) + 3 + 3 * strlen(path);
	char *out = malloc(n), *p;

	if (!out)
		return NULL;
	p = out + sprintf(out, "%s/%s/", state_dir(), sub);
	for (; *path; path++) {
		if (*path == '/' || *path == '%')
			p += sprintf(p, "%%%02X", (unsigned char)*path);
		else
			*p++ = *path;
	}
	*p = '\0';
	return out;
}

int svm_state_mkdir(const char *sub)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", state_dir());
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(dir, sizeof(dir), "%s/%s", state_dir(), sub);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

char *svm_state_store_record_path(const char *path)
{
	return svm_state_path("stores", path);
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
	char *rec = svm_state_store_record_path(path);
	int fd, ret;

	if (!rec)
		return -ENOMEM;
	ret = svm_state_mkdir("stores");
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
