/* Shared between the files of lib/certrotate (internal). */
#ifndef COIL_CERTROTATE_INTERNAL_H
#define COIL_CERTROTATE_INTERNAL_H

#include "kube/kube.h"

/* admissionregistration.k8s.io/v1, cluster-scoped. */
extern const struct kube_resource certrotate_validating_res, certrotate_mutating_res;

#endif
