/* Fuzzes the kubeconfig parser (YAML → JSON → cluster/user/context lookup, base64 data): any
 * input must give either a config with an http(s) server or an error with a message. */
#include "kube/kube.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_config *cfg = NULL;
	char err[256] = "";
	int ret = kube_config_parse_kubeconfig((const char *)data, size, "/base", NULL, &cfg, err,
					       sizeof(err));
	if (ret == 0) {
		if (!cfg->server || !cfg->namespace ||
		    (strncmp(cfg->server, "https://", 8) != 0 &&
		     strncmp(cfg->server, "http://", 7) != 0))
			abort();
		kube_config_free(cfg);
	} else if (ret > 0 || err[0] == '\0') {
		abort();
	}
	return 0;
}
