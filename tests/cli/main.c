/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int test_passed, test_failed;
char test_dir[64] = "/tmp/svmctl-unit.XXXXXX";

char *test_file(const char *name, const void *data, size_t len)
{
	char *path = g_build_filename(test_dir, name, NULL), *dir = g_path_get_dirname(path);

	g_mkdir_with_parents(dir, 0700);
	if (!g_file_set_contents(path, data, (gssize)len, NULL))
		fprintf(stderr, "cannot write %s\n", path);
	g_free(dir);
	return path;
}

static void *serve(void *arg)
{
	struct test_server *s = arg;
	size_t got = 0;
	ssize_t n;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (got + 1 < sizeof(s->request) && !memchr(s->request, '\n', got)) {
		n = read(c, s->request + got, sizeof(s->request) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	s->request[got] = '\0';
	if (got && s->request[got - 1] == '\n')
		s->request[got - 1] = '\0';
	if (s->hang_ms)
		g_usleep(s->hang_ms * 1000);
	/* fails with EPIPE when the client gave up waiting: nothing to do */
	if (s->answer && send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL) < 0 && errno != EPIPE)
		perror("fake server send");
	close(c);
	return NULL;
}

void test_server_start(struct test_server *s, const char *answer, unsigned hang_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(s->request, 0, sizeof(s->request));
	s->path = g_build_filename(test_dir, "ctl.sock", NULL);
	s->answer = answer;
	s->hang_ms = hang_ms;
	unlink(s->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->fd, 4)) {
		perror("fake server");
		exit(2);
	}
	pthread_create(&s->thread, NULL, serve, s);
}

void test_server_stop(struct test_server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
	unlink(s->path);
	g_free(s->path);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} suites[] = {
	    {"json", json_test}, {"ctl", ctl_test},	  {"dest", dest_test},
	    {"fmt", fmt_test},	 {"doctor", doctor_test},
	};
	char *cmd;

	if (!mkdtemp(test_dir)) {
		perror("mkdtemp");
		return 2;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(suites); i++) {
		int p = test_passed, f = test_failed;

		suites[i].fn();
		printf("%-8s %d passed, %d failed\n", suites[i].name, test_passed - p,
		       test_failed - f);
	}
	cmd = g_strdup_printf("rm -rf %s", test_dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", test_dir);
	g_free(cmd);
	printf("cli-unit: %d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
