/* The descriptor of one kind of Kubernetes object, on its own so that a library describing
 * its API group (lib/coilapi) can provide instances without linking the client. */
#ifndef COIL_KUBE_RESOURCE_H
#define COIL_KUBE_RESOURCE_H

#include <stdbool.h>

/* group "" is the core API (/api/v1), others live under /apis/group/version. */
struct kube_resource {
	const char *group, *version, *plural, *kind;
	bool namespaced;
};

#endif
