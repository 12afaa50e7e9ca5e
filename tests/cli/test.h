/* SPDX-License-Identifier: Apache-2.0 */
/* svmctl's unit-test harness: CHECK counts, main prints "cli-unit: N passed, N failed". */
#ifndef CLI_TEST_H
#define CLI_TEST_H

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

extern int test_passed, test_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			test_passed++;                                                             \
		} else {                                                                           \
			test_failed++;                                                             \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ == b_) {                                                                    \
			test_passed++;                                                             \
		} else {                                                                           \
			test_failed++;                                                             \
			fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,         \
				__LINE__, #a, #b, a_, b_);                                         \
		}                                                                                  \
	} while (0)

/* Two strings equal (NULL equals only NULL). */
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!g_strcmp0(a_, b_)) {                                                          \
			test_passed++;                                                             \
		} else {                                                                           \
			test_failed++;                                                             \
			fprintf(stderr, "FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__,     \
				__LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");         \
		}                                                                                  \
	} while (0)

/* haystack holds needle (haystack may be NULL: fails). */
#define CHECK_HAS(haystack, needle)                                                                \
	do {                                                                                       \
		const char *h_ = (haystack), *n_ = (needle);                                       \
		if (h_ && strstr(h_, n_)) {                                                        \
			test_passed++;                                                             \
		} else {                                                                           \
			test_failed++;                                                             \
			fprintf(stderr, "FAIL %s:%d: \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,   \
				h_ ? h_ : "(null)", n_);                                           \
		}                                                                                  \
	} while (0)

/* Suites, one per cli/ module. */
void json_test(void);
void ctl_test(void);
void dest_test(void);
void fmt_test(void);
void doctor_test(void);

/* A scratch directory per run (created by main, removed after). */
extern char test_dir[];

/* Write len bytes of data to test_dir/name (made with its directories); returns the g_malloc'd
 * path. */
char *test_file(const char *name, const void *data, size_t len);

/*
 * A fake handler for one connection, on a thread: it reads one request line
 * and answers answer (as is; NULL: closes without a word) after hang_ms.
 */
struct test_server {
	char *path; /* test_dir/ctl.sock */
	int fd;
	const char *answer;
	unsigned hang_ms;
	char request[256]; /* the line it got, without its newline */
	pthread_t thread;
};
void test_server_start(struct test_server *s, const char *answer, unsigned hang_ms);
/* Waits for the connection to end. */
void test_server_stop(struct test_server *s);

#endif
