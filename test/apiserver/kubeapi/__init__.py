"""A test-only Kubernetes API server (standard library only). See ../README.md.

Modules:
  errors     -- Status objects and the ApiError exception
  selectors  -- label and field selectors
  patch      -- JSON merge patch, JSON patch (RFC 6902), strategic merge patch (simplified)
  schema     -- CRD structural schemas: pruning, defaulting, validation
  defaults   -- server-side defaults of built-in types
  resources  -- the resource registry (built-ins and CRD-defined types) and discovery
  storage    -- the object store: resourceVersions, history, watchers
  ops        -- the verbs: create/update/patch/delete/scale with Kubernetes metadata semantics
  gc         -- garbage collector, namespace and CRD cleanup (the control plane's controllers)
  admission  -- calling Mutating/Validating admission webhooks
  faults     -- fault injection and the request log for tests
  handler    -- the HTTP request handler (routing, paging, watch streams, /_test/)
  server     -- command line and server start-up
"""
