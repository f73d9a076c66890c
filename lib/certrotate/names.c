/* The objects each controller's certificate rotation maintains (see the deploy/webhook
 * manifests, which create the Secrets empty and the configurations without caBundle). */
#include "certrotate.h"

const struct certrotate_names CERTROTATE_IPAM = {
    .secret = "coilv2-ipam-webhook-server-cert",
    .service_dns = "coilv2-ipam-webhook-service." CERTROTATE_NAMESPACE ".svc",
    .validating = "coilv2-validating-ipam-webhook-configuration",
    .mutating = "coilv2-mutating-ipam-webhook-configuration",
    .ca_cn = "coil-ipam-ca",
};

const struct certrotate_names CERTROTATE_EGRESS = {
    .secret = "coilv2-egress-webhook-server-cert",
    .service_dns = "coilv2-egress-webhook-service." CERTROTATE_NAMESPACE ".svc",
    .validating = "coilv2-validating-egress-webhook-configuration",
    .mutating = "coilv2-mutating-egress-webhook-configuration",
    .ca_cn = "coil-egress-ca",
};
