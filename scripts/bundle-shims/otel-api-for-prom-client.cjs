'use strict';
// Build-time stand-in for `@opentelemetry/api` as prom-client's metrics/processCpuTotal.js requires it
// (scripts/build.ts). prom-client reads `trace` and `context` from it only to attach exemplars, which pullgate
// never enables (proxy/metrics.ts, webhook/metrics.ts); evaluating the API package at start-up built its global
// registry, diagnostics logger and propagation objects on every node for nothing. The real package is still in
// the bundle and is loaded on first use.
let api;
function load() {
  api ??= require('@opentelemetry/api');
  return api;
}

module.exports = {
  get trace() {
    return load().trace;
  },
  get context() {
    return load().context;
  },
};
