/**
 * The audit's edges without containerd: the protobuf codec refuses malformed bytes with a typed error (they come
 * from a socket), and the audit config keys are validated with file/key/fix messages.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message, ProtobufError, intField, stringField, bytesField, decodeFields } from '../../node/containerd/protobuf.ts';
import { loadConfig } from '../../config/load.ts';
import { ConfigError } from '../../config/fields.ts';

t.test('protobuf: round trip of the shapes audit reads', async (t) => {
  const descriptor = Buffer.concat([stringField(1, 'application/vnd.oci.image.manifest.v1+json'), stringField(2, 'sha256:ab'), intField(3, 300)]);
  const image = Buffer.concat([stringField(1, 'reg/app:v1'), bytesField(3, descriptor)]);
  const list = new Message(Buffer.concat([bytesField(1, image), bytesField(1, image)]));
  const [first] = list.messages(1);
  t.equal(list.messages(1).length, 2);
  t.equal(first!.string(1), 'reg/app:v1');
  t.equal(first!.message(3)?.string(2), 'sha256:ab');
  t.equal(first!.message(3)?.int(3), 300);
});

t.test('protobuf: malformed input is a ProtobufError, never a partial read', async (t) => {
  t.throws(() => decodeFields(Buffer.from([0x0a, 0x05, 0x61])), ProtobufError, 'length past the end');
  t.throws(() => decodeFields(Buffer.from([0x08, 0xff, 0xff])), ProtobufError, 'truncated varint');
  t.throws(() => decodeFields(Buffer.from([0x0b])), ProtobufError, 'wire type 3 (groups)');
  t.throws(() => decodeFields(Buffer.from([0x00, 0x00])), ProtobufError, 'field 0');
  t.throws(() => decodeFields(Buffer.alloc(12, 0xff)), ProtobufError, 'overlong varint');
});

t.test('config: audit keys validated', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pullgate-audit-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (audit: unknown) => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ audit }));
    return file;
  };
  const ok = await loadConfig(write({ intervalMs: 60000, containerdSocket: '/run/k3s/containerd/containerd.sock', remove: true }));
  t.same(ok.audit, { intervalMs: 60000, containerdSocket: '/run/k3s/containerd/containerd.sock', remove: true });
  t.same((await loadConfig(write({}))).audit, { intervalMs: 0, containerdSocket: '/run/containerd/containerd.sock', remove: false }, 'off by default');
  await t.rejects(loadConfig(write({ interval: 5 })), ConfigError, 'unknown key');
  await t.rejects(loadConfig(write({ containerdSocket: 'containerd.sock' })), /absolute path/);
  await t.rejects(loadConfig(write({ intervalMs: -1 })), ConfigError);
  await t.rejects(loadConfig(write({ remove: 'yes' })), ConfigError);
});
