/* The CNI plugin: run by the container runtime with CNI_COMMAND set, it answers
 * VERSION itself and forwards everything else to coild over its UNIX socket.
 * It prints exactly one JSON document (a result or an error) on stdout. */
#include "applets.h"
#include "cni/cni.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC coil < netconf.json\n"
    "\n"
    "The CNI plugin, run by the container runtime from its CNI bin dir. It forwards\n"
    "ADD, DEL, CHECK, STATUS and GC to coild over the UNIX socket named by the\n"
    "netconf's \"socket\" (default " CNI_DEFAULT_SOCKET ") and answers VERSION itself.\n"
    "Environment: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS,\n"
    "CNI_PATH, CNI_NETNS_OVERRIDE (CNI 1.1; versions 0.3.1 0.4.0 1.0.0 1.1.0).\n";

/* Reads stdin to EOF into a malloc'd, NUL-terminated buffer. */
static int read_stdin(char **out, size_t *len, struct cni_error *err)
{
	int rc = fileio_read_fd(STDIN_FILENO, CNI_RPC_MAX_MESSAGE, -1, out, len);
	if (rc < 0)
		return cni_error_set(err, CNI_ERR_IO, NULL, "error reading from stdin: %s",
				     rc == -EFBIG ? "input too large" : strerror(-rc));
	return 0;
}

static int print_error(const struct cni_error *err, const struct cni_netconf *conf)
{
	json_t *doc = cni_error_to_json(err, cni_plugin_error_version(conf));
	if (doc) {
		cni_write_json(STDOUT_FILENO, doc, false);
		json_decref(doc);
	}
	return 1;
}

static int print_about(void)
{
	fprintf(stderr, "coil %s\nCNI protocol versions supported:", COIL_COMPAT_VERSION);
	for (size_t i = 0; i < CNI_N_SUPPORTED; i++)
		fprintf(stderr, "%s %s", i ? "," : "", cni_supported_versions[i]);
	fputc('\n', stderr);
	return 0;
}

/* Forwards the prepared invocation to coild; prints ADD's result. */
static int call_daemon(const struct cni_env *env, const struct cni_netconf *conf,
		       const struct cni_args *args, const char *input, size_t input_len,
		       struct cni_error *err)
{
	struct cni_rpc_request req;
	struct cni_rpc_response resp = {0};
	int rc = cni_plugin_build_request(env, conf, args, input, input_len, &req, err);
	/* Checked before coild acts, so that stdout never holds two documents. */
	bool own_netns_matters = env->command == CNI_CMD_ADD || env->command == CNI_CMD_DEL;
	if (rc == 0 && own_netns_matters && !cni_env_netns_override(env))
		rc = cni_netns_check(env->netns, err);
	if (rc == 0)
		rc = cni_rpc_call(conf->socket, &req, CNI_RPC_TIMEOUT_MS, &resp, err);
	if (rc == 0 && resp.failed) {
		*err = resp.error;
		rc = -EIO;
	}
	json_t *out = NULL;
	if (rc == 0 && env->command == CNI_CMD_ADD)
		rc = cni_plugin_add_output(conf, &resp, &out, err);
	if (out && cni_write_json(STDOUT_FILENO, out, false) < 0)
		rc = cni_error_set(err, CNI_ERR_IO, NULL, "error writing the result to stdout");
	json_decref(out);
	cni_rpc_response_free(&resp);
	cni_rpc_request_free(&req);
	return rc;
}

int cni_main(int argc, char **argv)
{
	if (applet_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	struct cni_env env;
	struct cni_error err = {0};
	cni_env_read(&env);
	if (env.command == CNI_CMD_NONE)
		return print_about();
	if (cni_env_check_required(&env, &err) < 0)
		return print_error(&err, NULL);
	if (env.command == CNI_CMD_VERSION)
		return fputs(cni_version_info_json, stdout) == EOF;

	/* jansson would read /dev/urandom for its hash seed; the runtime that feeds
	 * us is trusted, so a clock-based seed saves three syscalls per pod. */
	json_object_seed((size_t)cni_monotonic_ms() | 1);
	char *input = NULL;
	size_t input_len = 0;
	if (read_stdin(&input, &input_len, &err) < 0)
		return print_error(&err, NULL);
	struct cni_netconf conf = {0};
	struct cni_args args = {0};
	int rc = cni_plugin_prepare(&env, input, input_len, &conf, &args, &err);
	if (rc == 0)
		rc = call_daemon(&env, &conf, &args, input, input_len, &err);
	int status = rc == 0 ? 0 : print_error(&err, &conf);
	cni_args_free(&args);
	cni_netconf_free(&conf);
	free(input);
	return status;
}
