/**
 * A real registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1, a random free port, TLS with a
 * certificate signed by a throwaway CA, htpasswd (bcrypt) auth. Everything lives in one temp dir that stop() removes.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeCertificates } from './certs.js';

const run = promisify(execFile);

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** PEM of the CA that signed the registry's certificate. */
  caFile: string;
  /** A directory holding only `ca.crt`, for skopeo's --cert-dir/--src-cert-dir/--dest-cert-dir. */
  certDir: string;
  username: string;
  password: string;
  /** containers-auth.json (`{"auths":{"127.0.0.1:PORT":{"auth":…}}}`) for skopeo --authfile, mode 0600. */
  authFile: string;
  /** Registry storage root (docker/registry/v2/…), for tests that tamper with stored blobs. */
  dataDir: string;
  /** 'https' unless started with `{ http: true }`. */
  scheme: 'https' | 'http';
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** htpasswd users; the first one is returned as username/password. Default: one random user. */
  users?: Record<string, string>;
  /** Serve plain http instead of TLS (for --insecure tests). */
  http?: boolean;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function registryConfig(o: { root: string; addr: string; htpasswd: string; cert?: string; key?: string }): string {
  const tls = o.cert ? `  tls:\n    certificate: ${o.cert}\n    key: ${o.key}\n` : '';
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${o.root}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${o.addr}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    tls.trimEnd(),
    'auth:',
    '  htpasswd:',
    '    realm: kbs-bundler-test',
    `    path: ${o.htpasswd}`,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n') + '\n';
}

/** GET /v2/ until it answers 401 (auth required), i.e. the registry is up with auth on. */
async function waitUntilServing(url: string, ca: Buffer | undefined, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    const status = await new Promise<number | undefined>((resolve) => {
      const lib = url.startsWith('https:') ? https : http;
      const req = lib.get(url, { ca, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(undefined));
      req.on('timeout', () => req.destroy());
    });
    if (status === 401) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer 401 on ${url} (last status ${status}): ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-registry-'));
  const users = options.users ?? { [`tester${randomBytes(2).toString('hex')}`]: randomBytes(12).toString('base64url') };
  const [first] = Object.entries(users);
  if (!first) throw new Error('startRegistry: users must not be empty');
  const [username, password] = first;

  const certs = await makeCertificates(path.join(dir, 'tls'));
  const certDir = path.join(dir, 'certs.d');
  await fs.mkdir(certDir);
  await fs.copyFile(certs.caFile, path.join(certDir, 'ca.crt'));

  const htpasswd = path.join(dir, 'htpasswd');
  let lines = '';
  for (const [user, pass] of Object.entries(users)) {
    const { stdout } = await run('htpasswd', ['-Bbn', user, pass]);
    lines += stdout.trim() + '\n';
  }
  await fs.writeFile(htpasswd, lines, { mode: 0o600 });

  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir);
  const configFile = path.join(dir, 'config.yml');
  await fs.writeFile(
    configFile,
    registryConfig({ root: dataDir, addr: host, htpasswd, ...(options.http ? {} : { cert: certs.chainFile, key: certs.keyFile }) }),
  );

  const authFile = path.join(dir, 'auth.json');
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  await fs.writeFile(authFile, JSON.stringify({ auths: { [host]: { auth } } }, null, 2) + '\n', { mode: 0o600 });

  const child = spawn('/usr/bin/docker-registry', ['serve', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 16_384) stderr += d.toString();
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const scheme = options.http ? 'http' : 'https';
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(`${scheme}://${host}/v2/`, options.http ? undefined : await fs.readFile(certs.caFile), child, () => stderr);
  } catch (e) {
    await stop();
    throw e;
  }
  return { host, caFile: certs.caFile, certDir, username, password, authFile, dataDir, scheme, stop };
}

/** One raw request to the test registry as its first user (Basic auth), for pushing what skopeo cannot. */
export async function registryRequest(
  reg: TestRegistry,
  method: string,
  pathOrUrl: string,
  o: { body?: Uint8Array; headers?: Record<string, string>; auth?: boolean } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = pathOrUrl.startsWith('http') ? new URL(pathOrUrl) : new URL(`${reg.scheme}://${reg.host}${pathOrUrl}`);
  const ca = reg.scheme === 'https' ? await fs.readFile(reg.caFile) : undefined;
  const headers: Record<string, string> = { ...o.headers };
  if (o.auth !== false) headers.Authorization = `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}`;
  if (o.body) headers['Content-Length'] = String(o.body.length);
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body ? Buffer.from(o.body) : undefined);
  });
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Monolithic blob upload (POST then PUT ?digest=); returns the digest. */
export async function putBlob(reg: TestRegistry, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const start = await registryRequest(reg, 'POST', `/v2/${repo}/blobs/uploads/`);
  if (start.status !== 202 || !start.headers.location) throw new Error(`blob upload start: HTTP ${start.status} ${start.body.toString()}`);
  const location = new URL(start.headers.location, `${reg.scheme}://${reg.host}`);
  location.searchParams.set('digest', digest);
  const put = await registryRequest(reg, 'PUT', location.toString(), { body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${put.body.toString()}`);
  return digest;
}

/** PUT a manifest (or index) under a tag or digest; returns the digest of the bytes. */
export async function putManifest(reg: TestRegistry, repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
  const put = await registryRequest(reg, 'PUT', `/v2/${repo}/manifests/${reference}`, { body: bytes, headers: { 'Content-Type': mediaType } });
  if (put.status !== 201) throw new Error(`manifest PUT ${repo}:${reference}: HTTP ${put.status} ${put.body.toString()}`);
  return sha256(bytes);
}

/** The file holding a blob's bytes in the registry's storage (to tamper with in tests). */
export function blobDataPath(reg: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(reg.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
