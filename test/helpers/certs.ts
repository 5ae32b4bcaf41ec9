/** A throwaway CA and a server certificate it signed (CA:FALSE, SAN IP:127.0.0.1 + DNS:localhost), made with openssl. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  dir: string;
  /** The CA certificate (PEM) that signed the server certificate: trust this one. */
  caFile: string;
  caKeyFile: string;
  /** The server's end-entity certificate (PEM) followed by nothing else. */
  certFile: string;
  keyFile: string;
  /** certFile + caFile, the chain a server presents. */
  chainFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** Writes ca.crt/ca.key, server.crt/server.key and chain.crt into `dir` (created if needed). */
export async function makeCertificates(
  dir: string,
  options: { commonName?: string; sans?: string[] } = {},
): Promise<TestCertificates> {
  await fs.mkdir(dir, { recursive: true });
  const sans = options.sans ?? ['IP:127.0.0.1', 'DNS:localhost'];
  await openssl(
    [
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
      '/CN=kbs-bundler test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${options.commonName ?? 'localhost'}`,
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    ],
    dir,
  );
  await fs.writeFile(
    path.join(dir, 'server.ext'),
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}\n`,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt',
    ],
    dir,
  );
  const ca = await fs.readFile(path.join(dir, 'ca.crt'), 'utf8');
  const cert = await fs.readFile(path.join(dir, 'server.crt'), 'utf8');
  await fs.writeFile(path.join(dir, 'chain.crt'), cert + ca);
  return {
    dir,
    caFile: path.join(dir, 'ca.crt'),
    caKeyFile: path.join(dir, 'ca.key'),
    certFile: path.join(dir, 'server.crt'),
    keyFile: path.join(dir, 'server.key'),
    chainFile: path.join(dir, 'chain.crt'),
  };
}

/**
 * What openEuler's guide does (`openssl req -x509 -newkey … -nodes`): one self-signed certificate that is both the
 * CA and the server certificate (CA:TRUE). Browsers, curl and skopeo accept it when trusted; rustls does not.
 */
export async function makeSelfSignedCaLeaf(dir: string, options: { sans?: string[] } = {}): Promise<TestCertificates> {
  await fs.mkdir(dir, { recursive: true });
  const sans = options.sans ?? ['IP:127.0.0.1', 'DNS:localhost'];
  await openssl(
    [
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
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.crt',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      `subjectAltName=${sans.join(',')}`,
    ],
    dir,
  );
  const file = (n: string) => path.join(dir, n);
  await fs.copyFile(file('server.crt'), file('ca.crt'));
  await fs.copyFile(file('server.key'), file('ca.key'));
  await fs.copyFile(file('server.crt'), file('chain.crt'));
  return {
    dir,
    caFile: file('ca.crt'),
    caKeyFile: file('ca.key'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    chainFile: file('chain.crt'),
  };
}
