/* CNI types for the coil plugin and the coild daemon: environment and CNI_ARGS
 * validation, network configuration, results in every supported spec version,
 * version arithmetic, CNI error objects, and the JSON-over-UNIX-socket RPC between
 * the plugin and the daemon.
 *
 * Errors: functions that produce a CNI-visible failure fill a struct cni_error
 * (code + msg + details, as printed by the plugin) and return a negative errno.
 * Pure parsers whose CNI code depends on the caller (results, RPC messages) put
 * their text into a `char *err, size_t errlen` buffer instead.
 *
 * Ownership: structs that own memory have a *_free() function, which also
 * accepts a zeroed struct. `const char *` members are borrowed unless the
 * comment says otherwise; parsed documents keep their jansson tree alive for them.
 */
#ifndef COIL_CNI_H
#define COIL_CNI_H

#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors (error.c) ------------------------------------------------------ */

/* Codes of the CNI specification 1.1 (and libcni's 8); anything coild reports is 999. */
enum cni_error_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODING = 6,
	CNI_ERR_INVALID_NETCONF = 7,
	CNI_ERR_INVALID_NETNS = 8,
	CNI_ERR_TRY_AGAIN_LATER = 11,
	CNI_ERR_PLUGIN_NOT_AVAILABLE = 50,   /* STATUS: cannot serve ADD */
	CNI_ERR_NO_ADDRESSES_AVAILABLE = 51, /* STATUS: no IP addresses left (spec: limited
						connectivity) */
	CNI_ERR_INTERNAL = 999,
};

struct cni_error {
	int code; /* 0 = no error */
	char msg[1024];
	char details[2048]; /* "" = omitted from JSON */
};

/* Sets code, details (NULL = none) and a printf-formatted msg; truncates quietly.
 * Returns -EINVAL so callers can `return cni_error_set(...)`. */
int cni_error_set(struct cni_error *err, int code, const char *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* {"cniVersion":..,"code":..,"msg":..,"details":..}; details omitted when empty.
 * Returns a new reference (caller decrefs) or NULL on allocation failure. */
json_t *cni_error_to_json(const struct cni_error *err, const char *cni_version);

/* Writes one JSON document (compact) to fd in one write(2) where possible,
 * with a trailing newline if asked. Returns 0 or -errno. */
int cni_write_json(int fd, const json_t *doc, bool newline);

/* ---- versions (version.c) -------------------------------------------------- */

#define CNI_VERSION_LATEST "1.1.0"
#define CNI_N_SUPPORTED	   4
extern const char *const cni_supported_versions[CNI_N_SUPPORTED];

/* The VERSION answer, with trailing newline:
 * {"cniVersion":"1.1.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]} */
extern const char cni_version_info_json[];

bool cni_version_is_supported(const char *version);
/* True for 0.3.0, 0.3.1, 0.4.0: results carry "version" fields and always "dns". */
bool cni_version_is_0x(const char *version);

/* Parses "major[.minor[.micro]]" like libcni ("" is 0.1.0). A part that is not a
 * number fails with code 6, e.g. `failed to convert major version part "x": ...`. */
int cni_version_parse(const char *version, int parts[3], struct cni_error *err);

/* *cmp = <0, 0, >0 as a is older, equal, newer than b. Parse errors as above. */
int cni_version_compare(const char *a, const char *b, int *cmp, struct cni_error *err);

/* ---- commands and environment (env.c) ------------------------------------- */

enum cni_command {
	CNI_CMD_NONE, /* CNI_COMMAND unset or empty */
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_VERSION,
	CNI_CMD_STATUS,
	CNI_CMD_GC,
	CNI_CMD_UNKNOWN,
};

enum cni_command cni_command_parse(const char *text);
/* "ADD", "DEL", ...; "" for NONE and UNKNOWN. */
const char *cni_command_name(enum cni_command command);

/* The plugin's environment; every string borrowed (getenv or caller), never NULL. */
struct cni_env {
	enum cni_command command;
	const char *command_text; /* CNI_COMMAND verbatim */
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *args;
	const char *path;
	const char *netns_override;
};

/* Fills env from getenv(); unset variables become "". */
void cni_env_read(struct cni_env *env);

/* Code 4 `required env variables [A,B] missing` for the variables the command
 * needs that are empty (CNI_COMMAND is always needed). */
int cni_env_check_required(const struct cni_env *env, struct cni_error *err);

/* CNI_CONTAINERID and CNI_IFNAME rules; the plugin calls this for ADD/CHECK/DEL. */
int cni_validate_container_id(const char *id, struct cni_error *err);
int cni_validate_ifname(const char *ifname, struct cni_error *err);
/* Code 7 `missing network name` / `invalid characters found in network name`. */
int cni_validate_network_name(const char *name, struct cni_error *err);

/* CNI_NETNS_OVERRIDE is "1" or case-insensitively "true". */
bool cni_env_netns_override(const struct cni_env *env);

/* Code 8 when netns names the caller's own network namespace; an empty or
 * unreachable path passes. */
int cni_netns_check(const char *netns, struct cni_error *err);

/* ---- CNI_ARGS (args.c) ------------------------------------------------------ */

struct cni_args {
	const char *pod_namespace; /* K8S_POD_NAMESPACE, "" when absent */
	const char *pod_name;
	const char *pod_infra_container_id;
	const char *pod_uid; /* K8S_POD_UID: captured, yet "unknown" as upstream */
	bool ignore_unknown;
	char *storage; /* owned copy of the text the fields point into */
};

/* Parses `K1=V1;K2=V2` by libcni's LoadArgs rules. Failure: code 4
 * `failed to load CNI_ARGS`, details = e.g. `ARGS: invalid pair "x"`.
 * On success the caller frees with cni_args_free (also after failure). */
int cni_args_parse(const char *text, struct cni_args *out, struct cni_error *err);
void cni_args_free(struct cni_args *args);

/* ---- results (result.c, result_json.c) ------------------------------------- */

#define CNI_CIDR_MAX (INET6_ADDRSTRLEN + 4)

struct cni_interface {
	char *name; /* all strings owned; NULL = absent */
	char *mac;
	char *sandbox;
	char *socket_path; /* 1.1 */
	char *pci_id;	   /* 1.1 */
	int mtu;	   /* 1.1; 0 = absent */
};

struct cni_ip {
	int family;			/* AF_INET or AF_INET6 */
	char address[CNI_CIDR_MAX];	/* canonical "10.1.2.3/32" */
	char gateway[INET6_ADDRSTRLEN]; /* "" = absent */
	bool has_interface;
	int interface; /* index into interfaces */
};

struct cni_route {
	char dst[CNI_CIDR_MAX];
	char gw[INET6_ADDRSTRLEN]; /* "" = absent */
	int mtu, advmss, priority; /* 1.1; 0 = absent */
	bool has_table, has_scope; /* 1.1 */
	int table, scope;
};

struct cni_dns {
	char *domain;				 /* owned; NULL = absent */
	char **nameservers, **search, **options; /* owned arrays of owned strings */
	size_t n_nameservers, n_search, n_options;
};

/* Version-neutral superset of the 0.3.x, 0.4.0, 1.0.0 and 1.1.0 result types. */
struct cni_result {
	char cni_version[16];
	struct cni_interface *interfaces; /* owned arrays */
	size_t n_interfaces;
	struct cni_ip *ips;
	size_t n_ips;
	struct cni_route *routes;
	size_t n_routes;
	struct cni_dns dns;
};

void cni_result_free(struct cni_result *res);

/* Parses a result object. as_version != NULL: decode with that version's schema
 * (libcni injects the netconf version into a prevResult); else the document's
 * own cniVersion, which must be supported. Unknown keys are ignored, wrong types
 * and bad addresses fail. On failure *out is freed and zeroed. */
int cni_result_from_json(const json_t *doc, const char *as_version, struct cni_result *out,
			 char *err, size_t errlen);

/* Renders res as a result of `version` (0.3.0/0.3.1/0.4.0 ↔ 1.0.0/1.1.0, like
 * libcni's converters). Returns a new reference or NULL (unsupported version). */
json_t *cni_result_to_json(const struct cni_result *res, const char *version, char *err,
			   size_t errlen);

/* Builders for coild: append one entry and return its index, or -ENOMEM /
 * -EINVAL (bad CIDR or gateway). interface < 0 leaves the ip's index out. */
int cni_result_add_interface(struct cni_result *res, const char *name, const char *mac,
			     const char *sandbox);
int cni_result_add_ip(struct cni_result *res, const char *cidr, const char *gateway, int interface);

/* "10.1.2.3/32" → "10.1.2.3" (canonical). Returns 0 or -EINVAL. */
int cni_cidr_address(const char *cidr, char out[INET6_ADDRSTRLEN]);

/* ---- network configuration (netconf.c) ------------------------------------- */

#define CNI_DEFAULT_SOCKET "/run/coild.sock"

struct cni_attachment {
	const char *container_id;
	const char *ifname;
};

struct cni_netconf {
	json_t *doc;		 /* owned; every borrowed pointer below lives in it */
	const json_t *plugin;	 /* doc, or the coil entry of a conflist's "plugins" */
	const char *cni_version; /* "0.1.0" when missing, as libcni */
	const char *name;
	const char *type;			  /* "" when absent */
	const char *socket;			  /* CNI_DEFAULT_SOCKET when absent */
	const json_t *runtime_config;		  /* NULL when absent */
	const json_t *capabilities;		  /* NULL when absent */
	struct cni_result *prev_result;		  /* owned; NULL = not chained */
	struct cni_attachment *valid_attachments; /* owned array, strings borrowed */
	size_t n_valid_attachments;
};

/* Stage 1: stdin is a JSON object (code 6 `error unmarshall network config: ..`)
 * with a valid name (code 7). */
int cni_netconf_load(const char *text, size_t len, struct cni_netconf *conf, struct cni_error *err);
/* Stage 2: cniVersion, or for a conflist with "cniVersions" the newest supported
 * one. Code 6 `decoding version from network config: ..`. */
int cni_netconf_decode_version(struct cni_netconf *conf, struct cni_error *err);
/* Version gate of a command, as libcni's skel: CHECK needs >= 0.4.0, GC and
 * STATUS >= 1.1.0 (`config version does not allow X`), then the version must
 * be supported (code 1 `incompatible CNI versions`). */
int cni_check_version(enum cni_command command, const char *version, struct cni_error *err);
/* Stage 3: type, socket, capabilities, runtimeConfig, valid attachments
 * (code 999 `failed to parse network configuration: ..`) and prevResult
 * (code 999 `failed to parse prev result: ..`). */
int cni_netconf_parse_plugin(struct cni_netconf *conf, struct cni_error *err);
/* All stages for ADD, as the tests and fuzzers use them. */
int cni_netconf_parse(const char *text, size_t len, struct cni_netconf *conf,
		      struct cni_error *err);
void cni_netconf_free(struct cni_netconf *conf);

/* ---- daemon RPC (rpc.c, rpc_codec.c) --------------------------------------- */

#define CNI_RPC_TIMEOUT_MS  60000
#define CNI_RPC_MAX_MESSAGE (16u << 20)
/* The largest request the daemon reads (a netconf with a large prevResult fits easily); the
 * plugin refuses to send a larger one, the daemon answers "request too large". */
#define CNI_RPC_MAX_REQUEST (1u << 20)

struct cni_rpc_iface {
	const char *name;
	bool in_sandbox; /* prevResult interface has a sandbox */
};

struct cni_rpc_request {
	enum cni_command command;			  /* ADD, DEL, CHECK, STATUS or GC */
	const char *container_id, *netns, *ifname, *path; /* NULL encodes as "" */
	const char *stdin_data;				  /* raw netconf text, stdin_len bytes */
	size_t stdin_len;
	/* "args": NULL = key absent (decode) / "" (encode) */
	const char *pod_namespace, *pod_name, *pod_infra_container_id, *pod_uid;
	const char *is_chained;	       /* "true"/"false" from the plugin; coild validates */
	char (*ips)[INET6_ADDRSTRLEN]; /* owned array */
	size_t n_ips;
	struct cni_rpc_iface *interfaces; /* owned array */
	size_t n_interfaces;
	struct cni_attachment *valid_attachments; /* owned array */
	size_t n_valid_attachments;
	json_t *doc; /* decode only: owns the strings */
	/* Not encoded. The daemon's side: the pod netns as a descriptor the plugin sent with
	 * the request (borrowed), valid when has_netns_fd. The plugin's side never sets it:
	 * cni_rpc_call opens and sends netns itself. */
	bool has_netns_fd;
	int netns_fd;
};

struct cni_rpc_response {
	json_t *result; /* owned; ADD success: the CNI 1.1.0 result object */
	bool failed;
	struct cni_error error; /* when failed */
	char status[32];	/* gRPC-style status name: "OK", "Internal", "Unknown", ... */
};

void cni_rpc_request_free(struct cni_rpc_request *req);
void cni_rpc_response_free(struct cni_rpc_response *resp);

/* Encoders return 0 and a malloc'd text (caller frees) or -ENOMEM/-EINVAL. */
int cni_rpc_request_encode(const struct cni_rpc_request *req, char **text, size_t *len, char *err,
			   size_t errlen);
int cni_rpc_response_encode(const struct cni_rpc_response *resp, char **text, size_t *len,
			    char *err, size_t errlen);
/* Decoders validate types; the caller frees *out with the matching *_free(),
 * also after failure (-EBADMSG). */
int cni_rpc_request_decode(const char *text, size_t len, struct cni_rpc_request *out, char *err,
			   size_t errlen);
int cni_rpc_response_decode(const char *text, size_t len, struct cni_rpc_response *out, char *err,
			    size_t errlen);

/* Marks resp failed with status "Internal" (or `status`) and the given error. */
void cni_rpc_response_set_error(struct cni_rpc_response *resp, const char *status, int code,
				const char *msg, const char *details);

/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t cni_monotonic_ms(void);
/* Stream helpers for both sides (fd may be non-blocking): write everything /
 * read until EOF (malloc'd, NUL-terminated, at most max bytes) before the
 * deadline. Return 0, -ETIMEDOUT, -EMSGSIZE or -errno. */
int cni_rpc_write_all(int fd, const char *buf, size_t len, int64_t deadline_ms);
int cni_rpc_read_all(int fd, size_t max, int64_t deadline_ms, char **buf, size_t *len);

/* One call: connect, write the request, shutdown(SHUT_WR), read the response
 * until EOF. An ADD also carries the descriptor of req->netns, opened here, as SCM_RIGHTS
 * with its first bytes: the daemon then never resolves the path in its own mount namespace
 * (which may not see the runtime's netns mounts). A netns that cannot be opened is left to
 * the daemon, which reports it by path as before; a daemon that reads with read(2) drops
 * the descriptor unseen and opens the path. Returns 0 with *resp filled (resp->failed for daemon
 * errors), or: connect failed → its -errno (-ENOENT, -ECONNREFUSED, ...) and code 11 `failed to
 * connect to <socket>` (details = strerror); timeout → -ETIMEDOUT, code 999; other transport or
 * decode failures → -errno, code 999. */
int cni_rpc_call(const char *socket_path, const struct cni_rpc_request *req, int timeout_ms,
		 struct cni_rpc_response *resp, struct cni_error *err);

/* ---- the plugin flow (plugin.c) -------------------------------------------- */

/* Everything between reading stdin and contacting coild, in libcni's order:
 * netconf JSON and name, containerID and ifname (ADD/CHECK/DEL), unknown
 * command (code 4), version gate, full netconf parse, CNI_ARGS. On failure
 * conf and args still need freeing. */
int cni_plugin_prepare(const struct cni_env *env, const char *stdin_text, size_t stdin_len,
		       struct cni_netconf *conf, struct cni_args *args, struct cni_error *err);

/* Fills req (docs/behaviour/cni-plugin.md, 'Requests') from the prepared invocation;
 * ips and interfaces from a prevResult. Strings are borrowed from env, conf and args. */
int cni_plugin_build_request(const struct cni_env *env, const struct cni_netconf *conf,
			     const struct cni_args *args, const char *stdin_text, size_t stdin_len,
			     struct cni_rpc_request *req, struct cni_error *err);

/* The ADD output: prevResult if chained, else coild's result (code 6
 * `failed to unmarshal result` if it does not decode), converted to the
 * netconf's version. Returns a new reference in *out. */
int cni_plugin_add_output(const struct cni_netconf *conf, const struct cni_rpc_response *resp,
			  json_t **out, struct cni_error *err);

/* cniVersion to put in an error: the netconf's when supported, else latest. */
const char *cni_plugin_error_version(const struct cni_netconf *conf);

#endif
