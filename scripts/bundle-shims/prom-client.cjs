'use strict';
// Build-time stand-in for `prom-client` in dist/ (scripts/build.ts): pullgate's sources import only these
// five names (proxy/metrics.ts, webhook/metrics.ts, telemetry/, node/audit/). The package index also loads the
// Pushgateway client, the cluster aggregator (node:cluster) and Summary's t-digest at start-up.
module.exports = {
  Registry: require('prom-client/lib/registry.js'),
  Counter: require('prom-client/lib/counter.js'),
  Gauge: require('prom-client/lib/gauge.js'),
  Histogram: require('prom-client/lib/histogram.js'),
  collectDefaultMetrics: require('prom-client/lib/defaultMetrics.js'),
};
