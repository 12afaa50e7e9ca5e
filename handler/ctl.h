/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control channel's handler side (docs/control.md): a UNIX stream
 * socket that svmctl talks to, served on a thread of its own. One request
 * per connection, one line of words; one line of JSON back. Only root
 * (SO_PEERCRED) is served. No tcmu dependency: what a request does is the
 * caller's serve function (the plugin's), given a parsed request and a
 * JSON buffer to answer into.
 */
#ifndef SVM_CTL_H
#define SVM_CTL_H

#include "migrate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVM_CTL_RUN_DIR	    "/run/tcmu-svm" /* $SVM_RUN_DIR overrides */
#define SVM_CTL_SOCKET	    "control.sock"
#define SVM_CTL_LINE_MAX    8192 /* longest request line, '\n' included */
#define SVM_CTL_IO_TIMEOUT_S 5	 /* a client must send its line within this */

enum svm_ctl_verb {
	SVM_CTL_LIST,
	SVM_CTL_STATUS,
	SVM_CTL_MIGRATE,
	SVM_CTL_ABORT,
};

struct svm_ctl_req {
	enum svm_ctl_verb verb;
	char lun[256];		      /* STATUS, MIGRATE, ABORT */
	char to[4096];		      /* MIGRATE: to= */
	struct svm_migrate_args migrate; /* MIGRATE: .to points at to */
	bool keep_dest;		      /* ABORT */
};

/*
 * Parse one request line (without or with its '\n'). Pure, never blocks.
 * 0, or -EINVAL with *reason (malloc'd) saying what is wrong: an unknown
 * verb, a missing LUN, an unknown or repeated key, a malformed value,
 * migrate without to=. Defaults: mover=auto rate=0 keep_source=0
 * keep_dest=0.
 */
int svm_ctl_parse(const char *line, struct svm_ctl_req *req, char **reason);

/* A growing JSON text. Out of memory is remembered (oom) and the text dropped. */
struct svm_json {
	char *buf;
	size_t len, cap;
	bool oom, comma; /* comma: a member or element came before in this object/array */
};

void svm_json_open(struct svm_json *j, char brace);  /* '{' or '[' */
void svm_json_close(struct svm_json *j, char brace); /* '}' or ']' */
void svm_json_key(struct svm_json *j, const char *key);
void svm_json_str(struct svm_json *j, const char *key, const char *val); /* NULL: null */
void svm_json_u64(struct svm_json *j, const char *key, uint64_t val);
void svm_json_bool(struct svm_json *j, const char *key, bool val);
void svm_json_free(struct svm_json *j);

/* An error answer: {"error":"<msg>","errno":<-err>} (err is a -errno). */
void svm_json_error(struct svm_json *j, int err, const char *msg);

/* What STATUS says of one LUN, besides its migration's status. */
struct svm_ctl_lun {
	const char *lun;
	const char *source; /* the store it serves now */
	const char *dst;    /* the cfgstring's dst=, or NULL */
	uint64_t size;	    /* bytes */
	enum svm_mover_kind mover; /* asked for when idle (the cfgstring's mover=) */
	const struct svm_migrate_status *mig; /* NULL: never migrated since it opened */
};

/* The STATUS object of docs/control.md. */
void svm_ctl_status_json(struct svm_json *j, const struct svm_ctl_lun *l);

/*
 * Serve a parsed request: fill out (a STATUS, a list, or svm_json_error).
 * Runs on the control thread; may block (a migration's start or abort).
 */
typedef void (*svm_ctl_serve_fn)(const struct svm_ctl_req *req, struct svm_json *out);
/* A line that did not parse, or a non-root peer, never reaches serve. */

/*
 * Create the run directory (mode 0700) and the socket (mode 0600) in it,
 * replacing a stale one, and serve it on a new detached thread for the
 * life of the process. 0, or -errno with *reason. Blocks briefly.
 */
int svm_ctl_start(const char *run_dir, svm_ctl_serve_fn serve, char **reason);

/*
 * Serve one accepted connection fd (then close it): check the peer,
 * read the line, parse, serve, answer. Blocks up to SVM_CTL_IO_TIMEOUT_S
 * on a slow client. For the server thread and the tests.
 */
void svm_ctl_serve_fd(int fd, svm_ctl_serve_fn serve);

#endif
