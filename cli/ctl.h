/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client side of the control channel (docs/control.md): one request
 * line per connection to the handler's UNIX socket, one JSON line back.
 * Failures come back as a sentence for the admin that says what to do
 * (start tcmu-runner, run as root...).
 */
#ifndef CLI_CTL_H
#define CLI_CTL_H

#include "json.h"

#define CLI_CTL_SOCKET_DEFAULT "/run/tcmu-svm/control.sock"
#define CLI_CTL_MAX_ANSWER     (64u << 20) /* bytes; a longer answer is refused */

enum cli_ctl_fail_kind {
	CLI_CTL_OK,
	CLI_CTL_UNREACHABLE, /* no socket, no permission, refused, timed out, no or bad answer */
	CLI_CTL_REFUSED,     /* the handler answered {"error":...,"errno":N} */
};

struct cli_ctl_fail {
	enum cli_ctl_fail_kind kind;
	int err;   /* errno of the failed call, or the handler's errno (0 if it gave none) */
	char *msg; /* g_malloc'd sentence for the admin; NULL when kind is CLI_CTL_OK */
};

/*
 * The socket svmctl talks to when --socket is not given:
 * $SVM_RUN_DIR/control.sock when SVM_RUN_DIR is set and not empty, else
 * CLI_CTL_SOCKET_DEFAULT. Returns a g_malloc'd path. Never blocks.
 */
char *cli_ctl_default_socket(void);

/*
 * Send request (one line, without its newline) to the handler listening
 * on socket_path and read its one-line answer. Blocks: at most timeout_ms
 * for the connection, and as long again for the answer. Returns the
 * parsed answer (free with cli_json_free), or NULL with *fail filled in
 * (free with cli_ctl_fail_clear): CLI_CTL_UNREACHABLE when no valid JSON
 * answer came, CLI_CTL_REFUSED when the answer is an error object.
 */
struct cli_json *cli_ctl_request(const char *socket_path, const char *request, int timeout_ms,
				 struct cli_ctl_fail *fail);

/*
 * Whether an answer is the protocol's error object rather than a STATUS or
 * a list: it has an "errno" member, or a non-null "error" and neither
 * "phase" nor "luns" (a STATUS carries "error" too: why a migration
 * failed). Pure.
 */
bool cli_ctl_is_error(const struct cli_json *answer);

/* Free fail->msg and reset *fail to CLI_CTL_OK. */
void cli_ctl_fail_clear(struct cli_ctl_fail *fail);

#endif
