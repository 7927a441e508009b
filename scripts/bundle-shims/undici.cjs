'use strict';
// Build-time stand-in for `undici` in dist/ (scripts/build.ts): pullgate's sources import only `Agent` and
// `request` from it (registry/*.ts, cli/doctor.ts). undici's index.js loads every feature it has (fetch,
// WebSocket, EventSource, mocks, caches incl. node:sqlite) — ~700 KB of code evaluated at start-up for nothing.
// The TypeScript sources and the tests keep using the real index.
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js');
const Agent = require('undici/lib/dispatcher/agent.js');
const api = require('undici/lib/api/index.js');
const { getGlobalDispatcher } = require('undici/lib/global.js');

// What index.js does so that every dispatcher has request()/stream()/pipeline()/connect()/upgrade().
Object.assign(Dispatcher.prototype, api);

// `request(url, options)`: a one-shot request on the global dispatcher (or options.dispatcher), as
// cli/doctor.ts uses it. The URL gives origin and path; the options are undici's request options.
function request(url, options = {}) {
  const target = new URL(url);
  const { dispatcher = getGlobalDispatcher(), ...rest } = options;
  return dispatcher.request({ method: 'GET', ...rest, origin: target.origin, path: `${target.pathname}${target.search}` });
}

module.exports = { Agent, Dispatcher, request };
