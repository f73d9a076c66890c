/* The descriptors of Coil's custom resources, for lib/kube's request paths and informers. */
#include "coilapi.h"

const struct kube_resource COILAPI_RES_ADDRESSPOOLS = {
    COILAPI_GROUP, COILAPI_VERSION, "addresspools", COILAPI_KIND_ADDRESSPOOL, false};
const struct kube_resource COILAPI_RES_ADDRESSBLOCKS = {
    COILAPI_GROUP, COILAPI_VERSION, "addressblocks", COILAPI_KIND_ADDRESSBLOCK, false};
const struct kube_resource COILAPI_RES_BLOCKREQUESTS = {
    COILAPI_GROUP, COILAPI_VERSION, "blockrequests", COILAPI_KIND_BLOCKREQUEST, false};
const struct kube_resource COILAPI_RES_EGRESSES = {COILAPI_GROUP, COILAPI_VERSION, "egresses",
						   COILAPI_KIND_EGRESS, true};
