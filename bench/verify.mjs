#!/usr/bin/env node
/**
 * Verify throughput: simple signatures made with RSA-3072 keys, compressed one-pass
 * messages as gpg and skopeo make them, verified in one process against a keyring parsed once.
 * Printed beside `openssl speed -seconds 2 rsa3072` (verify/s), a plain openpgp.js readMessage+verify
 * loop, and gpgv per process — all measured in this run on this machine.
 *
 * Run after `npm run build`: `node bench/verify.mjs [--signatures N] [--seconds S]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { auditSignaturesOnAllCores, buildPayload, readPublicKeyring, verifySignature } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const COUNT = opt('--signatures', 200);
const SECONDS = opt('--seconds', 3);

function openssl() {
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', '2', 'rsa3072'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const line = out.split('\n').find((l) => /^rsa\s+3072 bits/.test(l.trim()));
    return line ? Number(line.trim().split(/\s+/).pop()) : NaN;
  } catch {
    return NaN;
  }
}

async function timeLoop(seconds, fn) {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await fn(n);
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function main() {
  process.stderr.write(`generating an RSA-3072 key and ${COUNT} compressed signatures…\n`);
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'rsa',
    rsaBits: 3072,
    userIDs: [{ name: 'bench', email: 'bench@example.com' }],
    format: 'object',
  });
  const blobs = [];
  for (let i = 0; i < COUNT; i++) {
    const payload = buildPayload({
      dockerReference: `registry.example.com/team/app-${i}:1.0`,
      manifestDigest: `sha256:${i.toString(16).padStart(64, '0')}`,
      creator: 'bench',
      timestamp: 1700000000 + i,
    });
    const message = await openpgp.createMessage({ binary: payload, format: 'binary' });
    const signed = await openpgp.sign({ message, signingKeys: privateKey, format: 'binary' });
    // Wrapped the way gpg writes it: an old-format, indeterminate-length compressed packet (ZIP).
    blobs.push(Buffer.concat([Buffer.from([0xa3, 0x01]), deflateRawSync(signed)]));
  }
  if (![0xa3, 0xc8].includes(blobs[0][0])) throw new Error('expected a compressed message');
  const keyring = await readPublicKeyring(publicKey.write(), { file: 'bench' });
  await verifySignature(blobs[0], keyring, 'host'); // builds the per-keyring cache once

  const rate = await timeLoop(SECONDS, (n) => verifySignature(blobs[n % COUNT], keyring, 'host'));
  const plain = await timeLoop(Math.min(SECONDS, 2), async (n) => {
    const message = await openpgp.readMessage({ binaryMessage: blobs[n % COUNT] });
    const r = await openpgp.verify({ message, verificationKeys: publicKey, format: 'binary' });
    await r.signatures[0].verified;
  });

  // audit over a store-sized batch: in-process vs one worker per core (both verdicts per signature).
  const batch = Array.from({ length: 8000 }, (_, i) => ({
    repositoryPath: `team/app-${i % COUNT}`,
    digest: `sha256:${(i % COUNT).toString(16).padStart(64, '0')}`,
    name: 'signature-1',
    bytes: blobs[i % COUNT],
    source: 'bench',
  }));
  const auditRate = async (threads) => {
    const t0 = performance.now();
    const report = await auditSignaturesOnAllCores(batch, [keyring], { threads, minForWorkers: 0 });
    if (report.good !== batch.length) throw new Error(`audit: ${report.good}/${batch.length} good`);
    return batch.length / ((performance.now() - t0) / 1000);
  };
  const audit1 = await auditRate(1);
  const auditAll = await auditRate(os.availableParallelism());

  let gpgvMs = NaN;
  const home = mkdtempSync(path.join(os.tmpdir(), 'kbsb-bench-'));
  try {
    const keyFile = path.join(home, 'key.gpg');
    writeFileSync(keyFile, publicKey.write());
    const sigFile = path.join(home, 'sig');
    writeFileSync(sigFile, blobs[0]);
    const runs = 20;
    const t0 = performance.now();
    let ok = 0;
    for (let i = 0; i < runs; i++) {
      const r = spawnSync('gpgv', ['--keyring', keyFile, sigFile], { stdio: 'ignore' });
      if (r.status === 0) ok++;
    }
    if (ok === runs) gpgvMs = (performance.now() - t0) / runs;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }

  const rsa = openssl();
  const cpu = (os.cpus()[0]?.model ?? 'unknown').trim();
  const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
  console.log(`machine: ${os.cpus().length} cores (nproc), ${cpu}, node ${process.version}`);
  console.log(`kbs-bundler verifySignature (host), one process : ${fmt(rate)} signatures/s`);
  console.log(
    `openssl speed -seconds 2 rsa3072, verify        : ${fmt(rsa)} verify/s   (kbs-bundler at ${Number.isFinite(rsa) ? ((rate / rsa) * 100).toFixed(0) : 'n/a'}% of raw RSA)`,
  );
  console.log(
    `openpgp.js readMessage + verify loop             : ${fmt(plain)} signatures/s   (kbs-bundler ${(rate / plain).toFixed(1)}x)`,
  );
  console.log(
    `gpgv, one process per signature                  : ${Number.isFinite(gpgvMs) ? gpgvMs.toFixed(2) : 'n/a'} ms each (${fmt(1000 / gpgvMs)}/s)`,
  );
  console.log(`audit, 8,000 signatures, in-process          : ${fmt(audit1)} signatures/s (guest and host verdicts)`);
  console.log(
    `audit, 8,000 signatures, ${os.availableParallelism()} threads (1 + workers)   : ${fmt(auditAll)} signatures/s (${(auditAll / audit1).toFixed(2)}x; bench/audit.mjs: CLI and CPU figures)`,
  );
  console.log(`target (issue #7): >= 5,000 signatures/s per core: ${rate >= 5000 ? 'met' : 'NOT met'}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
