//go:build tools

// Package k8sbuild only records which Kubernetes programs the cluster tests
// build, so that `go mod tidy` keeps their dependencies in go.mod and go.sum.
// It is never compiled (the tools build tag is never set).
package k8sbuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
