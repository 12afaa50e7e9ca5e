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

int svm_state_store_moved(const char *path, const char *to)
{
	char *rec = svm_state_store_record_path(path), *tmp = NULL;
	int fd = -1, ret;
	size_t len = strlen(to);

	if (!rec || asprintf(&tmp, "%s.tmp", rec) < 0) {
		free(rec);
		return -ENOMEM;
	}
	ret = svm_state_mkdir("stores");
	if (!ret) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ret = fd < 0 ? -errno : 0;
	}
	if (!ret && (write(fd, "moved ", 6) != 6 || write(fd, to, len) != (ssize_t)len ||
		     write(fd, "\n", 1) != 1 || fsync(fd)))
		ret = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	if (!ret && rename(tmp, rec))
		ret = -errno;
	if (ret)
		unlink(tmp);
	free(tmp);
	free(rec);
	return ret;
}

int svm_state_store_moved_to(const char *path, char *buf, size_t len)
{
	char *rec = svm_state_store_record_path(path), line[4200];
	ssize_t n = -1;
	int fd;

	if (!rec)
		return -ENOMEM;
	fd = open(rec, O_RDONLY | O_CLOEXEC);
	free(rec);
	if (fd < 0)
		return -errno;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	line[n] = '\0';
	if (strncmp(line, "moved /", 7) || !strchr(line, '\n'))
		return -ENOENT;
	*strchr(line, '\n') = '\0';
	if (strlen(line + 6) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, line + 6, strlen(line + 6) + 1);
	return 0;
}
