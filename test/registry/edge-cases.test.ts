/**
 * Responses a well-behaved docker-registry never sends but other registries and proxies do: blob redirects to
 * another origin, answers that never come, bodies without Content-Length over the limit. Small local servers.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference/index.js';
import { RegistryError, fetchBlob, fetchManifest } from '../../src/registry/index.js';
import { makeCertificates } from '../helpers/certs.js';

const servers: Array<http.Server | https.Server | net.Server> = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const s of servers.splice(0)) {
    if (s instanceof http.Server) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen<T extends http.Server | https.Server | net.Server>(
  server: T,
): Promise<{ server: T; host: string }> {
  servers.push(server);
  server.on('connection', (socket: net.Socket) => sockets.add(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as net.AddressInfo;
  return { server, host: `127.0.0.1:${address.port}` };
}

const auths = (host: string) => ({ auths: { [host]: { auth: Buffer.from('user:pw').toString('base64') } } });

describe('registry client edge cases', () => {
  it('follows a blob redirect to another origin without sending the credential there', async () => {
    const blob = Buffer.from('payload bytes');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const seenByStorage: http.IncomingHttpHeaders[] = [];
    const storage = await listen(
      http.createServer((req, res) => {
        seenByStorage.push(req.headers);
        res.end(blob);
      }),
    );
    const registry = await listen(
      http.createServer((req, res) => {
        if (req.headers.authorization !== `Basic ${Buffer.from('user:pw').toString('base64')}`) {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end();
          return;
        }
        res.writeHead(307, { Location: `http://${storage.host}/bucket/${digest}?sig=x` }).end();
      }),
    );
    const got = await fetchBlob(parseReference(`${registry.host}/team/app:1`), digest, {
      auths: auths(registry.host),
      insecure: true,
    });
    expect(Buffer.from(got).equals(blob)).toBe(true);
    expect(seenByStorage).toHaveLength(1);
    expect(seenByStorage[0]?.authorization).toBeUndefined();
  });

  it('rejects a blob whose bytes do not match its digest', async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    const registry = await listen(http.createServer((_req, res) => res.end('not what was asked')));
    const e = await fetchBlob(parseReference(`${registry.host}/team/app:1`), digest, { insecure: true }).catch(
      (x: unknown) => x as RegistryError,
    );
    expect((e as RegistryError).code).toBe('E_REGISTRY_DIGEST_MISMATCH');
  });

  it('gives up after the timeout when the registry never answers', async () => {
    const silent = await listen(net.createServer(() => undefined));
    const started = Date.now();
    const e = await fetchManifest(parseReference(`${silent.host}/team/app:1`), {
      insecure: true,
      timeoutMs: 300,
    }).catch((x: unknown) => x as RegistryError);
    expect((e as RegistryError).code).toBe('E_REGISTRY_TIMEOUT');
    expect((e as RegistryError).message).toBe(
      `registry ${silent.host} did not answer within 300 ms (http://${silent.host}/v2/team/app/manifests/1)`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops reading a chunked body (no Content-Length) past the size limit', async () => {
    let written = 0;
    const registry = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
          if (written < 64 * 1024 * 1024) res.once('drain', pump);
          else res.end();
        };
        res.on('close', () => (written = Infinity));
        pump();
      }),
    );
    const e = await fetchManifest(parseReference(`${registry.host}/team/app:1`), { insecure: true }).catch(
      (x: unknown) => x as RegistryError,
    );
    expect((e as RegistryError).code).toBe('E_REGISTRY_TOO_LARGE');
    expect((e as RegistryError).message).toBe(
      `manifest ${registry.host}/team/app:1 from registry ${registry.host} is over the 4194304-byte limit`,
    );
  });

  it('refuses to send credentials to an http token realm when the registry is https', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-edge-'));
    try {
      const certs = await makeCertificates(dir);
      let tokenRequests = 0;
      const realm = await listen(
        http.createServer((_req, res) => {
          tokenRequests++;
          res.end('{"token":"t"}');
        }),
      );
      const registry = await listen(
        https.createServer(
          { cert: await fs.readFile(certs.chainFile), key: await fs.readFile(certs.keyFile) },
          (_req, res) => {
            res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${realm.host}/token",service="s"` }).end();
          },
        ),
      );
      const e = await fetchManifest(parseReference(`${registry.host}/team/app:1`), {
        auths: auths(registry.host),
        caPems: [await fs.readFile(certs.caFile, 'utf8')],
      }).catch((x: unknown) => x as RegistryError);
      expect((e as RegistryError).code).toBe('E_REGISTRY_TLS');
      expect((e as RegistryError).message).toBe(
        `registry ${registry.host} sent an http token realm (http://${realm.host}); refusing to send credentials without TLS (use --insecure to allow)`,
      );
      expect(tokenRequests).toBe(0);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
