/**
 * A real registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1, a random free port, TLS with a
 * certificate signed by a throwaway CA, htpasswd (bcrypt) auth. Everything lives in one temp dir that stop() removes.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeCertificates, makeSelfSignedCaLeaf } from './certs.js';

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
  /** With `{ tokenAuth: true }`: the token server's realm URL and how many tokens it issued. */
  tokenRealm?: string;
  tokensIssued?: () => number;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** htpasswd users; the first one is returned as username/password. Default: one random user. */
  users?: Record<string, string>;
  /** Serve plain http instead of TLS (for --insecure tests). */
  http?: boolean;
  /**
   * Bearer token auth (`auth: token`) instead of htpasswd: a token server in this process checks the users'
   * passwords (Basic) and issues ES256 JWTs the registry trusts. (`registryRequest` below speaks Basic only.)
   */
  tokenAuth?: boolean;
  /** Extra DNS names in the server certificate (besides localhost and 127.0.0.1), e.g. 'registry.test'. */
  dnsNames?: string[];
  /** Serve one self-signed CA:TRUE certificate as openEuler's guide makes it (caFile is that certificate). */
  selfSignedCaLeaf?: boolean;
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

function registryConfig(o: { root: string; addr: string; auth: string; cert?: string; key?: string }): string {
  const tls = o.cert ? `  tls:\n    certificate: ${o.cert}\n    key: ${o.key}\n` : '';
  return (
    [
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
      o.auth.trimEnd(),
    ]
      .filter((l) => l !== '')
      .join('\n') + '\n'
  );
}

/** GET /v2/ until it answers 401 (auth required), i.e. the registry is up with auth on. */
async function waitUntilServing(
  url: string,
  ca: Buffer | undefined,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
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
    if (Date.now() > deadline)
      throw new Error(`docker-registry did not answer 401 on ${url} (last status ${status}): ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const TOKEN_SERVICE = 'kbs-bundler-test-registry';
const TOKEN_ISSUER = 'kbs-bundler-test-issuer';

interface TokenServer {
  realm: string;
  certFile: string;
  issued: () => number;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * The token endpoint of the Docker token auth spec: GET /token?service=…&scope=repository:<name>:<actions>
 * with Basic credentials → `{"token": JWT}` granting the requested actions. 401 for unknown users.
 */
async function startTokenServer(
  dir: string,
  users: Record<string, string>,
  certFile: string,
  keyFile: string,
): Promise<TokenServer> {
  const signingKey = path.join(dir, 'token.key');
  const signingCert = path.join(dir, 'token.crt');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=kbs-bundler test token signer',
    '-keyout',
    signingKey,
    '-out',
    signingCert,
  ]);
  const certPem = await fs.readFile(signingCert, 'utf8');
  const x5c = certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const key = createPrivateKey(await fs.readFile(signingKey));
  let issued = 0;

  const server = https.createServer(
    { cert: await fs.readFile(certFile), key: await fs.readFile(keyFile) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const header = req.headers.authorization ?? '';
      const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '';
      const colon = decoded.indexOf(':');
      const user = colon === -1 ? '' : decoded.slice(0, colon);
      if (url.pathname !== '/token' || colon === -1 || users[user] !== decoded.slice(colon + 1)) {
        res
          .writeHead(401, { 'Content-Type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      const access = url.searchParams.getAll('scope').flatMap((scope) => {
        const [type, name, actions] = scope.split(':');
        return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
      });
      const now = Math.floor(Date.now() / 1000);
      const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [x5c] }));
      const claims = b64url(
        JSON.stringify({
          iss: TOKEN_ISSUER,
          sub: user,
          aud: url.searchParams.get('service') ?? '',
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: randomBytes(8).toString('hex'),
          access,
        }),
      );
      const signature = sign('sha256', Buffer.from(`${head}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
      issued++;
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ token: `${head}.${claims}.${b64url(signature)}`, expires_in: 300 }));
    },
  );
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    realm: `https://127.0.0.1:${port}/token`,
    certFile: signingCert,
    issued: () => issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-registry-'));
  const users = options.users ?? { [`tester${randomBytes(2).toString('hex')}`]: randomBytes(12).toString('base64url') };
  const [first] = Object.entries(users);
  if (!first) throw new Error('startRegistry: users must not be empty');
  const [username, password] = first;

  const sans = ['IP:127.0.0.1', 'DNS:localhost', ...(options.dnsNames ?? []).map((n) => `DNS:${n}`)];
  const certs = options.selfSignedCaLeaf
    ? await makeSelfSignedCaLeaf(path.join(dir, 'tls'), { sans })
    : await makeCertificates(path.join(dir, 'tls'), { sans });
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
  let token: TokenServer | undefined;
  let authConfig = `  htpasswd:\n    realm: kbs-bundler-test\n    path: ${htpasswd}\n`;
  if (options.tokenAuth) {
    token = await startTokenServer(dir, users, certs.chainFile, certs.keyFile);
    authConfig = `  token:\n    realm: ${token.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${token.certFile}\n`;
  }
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir);
  const configFile = path.join(dir, 'config.yml');
  await fs.writeFile(
    configFile,
    registryConfig({
      root: dataDir,
      addr: host,
      auth: authConfig,
      ...(options.http ? {} : { cert: certs.chainFile, key: certs.keyFile }),
    }),
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
    await token?.close();
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(
      `${scheme}://${host}/v2/`,
      options.http ? undefined : await fs.readFile(certs.caFile),
      child,
      () => stderr,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host,
    caFile: certs.caFile,
    certDir,
    username,
    password,
    authFile,
    dataDir,
    scheme,
    stop,
    ...(token ? { tokenRealm: token.realm, tokensIssued: token.issued } : {}),
  };
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
  if (o.auth !== false)
    headers.Authorization = `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}`;
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
  if (start.status !== 202 || !start.headers.location)
    throw new Error(`blob upload start: HTTP ${start.status} ${start.body.toString()}`);
  const location = new URL(start.headers.location, `${reg.scheme}://${reg.host}`);
  location.searchParams.set('digest', digest);
  const put = await registryRequest(reg, 'PUT', location.toString(), {
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${put.body.toString()}`);
  return digest;
}

/** PUT a manifest (or index) under a tag or digest; returns the digest of the bytes. */
export async function putManifest(
  reg: TestRegistry,
  repo: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<string> {
  const put = await registryRequest(reg, 'PUT', `/v2/${repo}/manifests/${reference}`, {
    body: bytes,
    headers: { 'Content-Type': mediaType },
  });
  if (put.status !== 201)
    throw new Error(`manifest PUT ${repo}:${reference}: HTTP ${put.status} ${put.body.toString()}`);
  return sha256(bytes);
}

/** The file holding a blob's bytes in the registry's storage (to tamper with in tests). */
export function blobDataPath(reg: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(reg.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
