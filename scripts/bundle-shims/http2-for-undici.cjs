'use strict';
// Build-time stand-in for `node:http2` as undici's dispatcher/client-h2.js requires it (scripts/build.ts).
// undici loads that module with every Client, reads ten constants from it at load time, and calls connect()
// only when a server negotiated h2 through ALPN — which pullgate never offers (undici's allowH2 stays off).
// Loading Node's http2 cost ~1.5 MiB of resident memory on every node for that dead path (measured with bench/footprint.ts),
// so the constants are copied here and the real module is loaded on the first connect().
// test/daemonset/dockerfile.test.ts checks every value against node:http2 itself.
const constants = Object.freeze({
  // RFC 9113 §8.3 pseudo-header fields and §8.2.2 field names.
  HTTP2_HEADER_AUTHORITY: ':authority',
  HTTP2_HEADER_METHOD: ':method',
  HTTP2_HEADER_PATH: ':path',
  HTTP2_HEADER_SCHEME: ':scheme',
  HTTP2_HEADER_STATUS: ':status',
  HTTP2_HEADER_PROTOCOL: ':protocol',
  HTTP2_HEADER_CONTENT_LENGTH: 'content-length',
  HTTP2_HEADER_EXPECT: 'expect',
  // RFC 9113 §7 error codes.
  NGHTTP2_REFUSED_STREAM: 7,
  NGHTTP2_CANCEL: 8,
});

function connect(...args) {
  return require('node:http2').connect(...args);
}

module.exports = { constants, connect };
