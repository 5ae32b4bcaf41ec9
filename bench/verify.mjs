#!/usr/bin/env node
/**
 * Verify throughput: simple signatures made with an RSA-3072 key, compressed one-pass messages as
 * gpg and skopeo make them, verified one after another on one thread against a keyring parsed once.
 * The rate per core is signatures per second of the process's CPU time (user + system), so that other
 * load on a shared machine does not count against it; the rate per second of wall time is printed
 * too. Beside it, alternated (KBSB_BENCH_RUNS rounds, default 3, medians): `openssl speed -seconds 2
 * rsa3072` verify/s, the raw RSA limit of one core (openssl divides by its user CPU time by default).
 * Also printed: a plain openpgp.js readMessage + verify loop, and gpgv run once per signature.
 * Target: ≥ 5,000 signatures/s per core.
 *
 * Run after `npm run build`: `node bench/verify.mjs [--signatures N] [--seconds S]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { buildPayload, readPublicKeyring, verifySignature } from '../dist/index.js';
import { machine, median, runsOr, verdict } from './lib/dataset.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const COUNT = opt('--signatures', 200);
const SECONDS = opt('--seconds', 3);
const RUNS = runsOr(3);
const TARGET = 5000;

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

/** Runs `fn` for `seconds`: { wall, cpu } = calls per second of wall time and per second of this process's CPU time. */
async function timeLoop(seconds, fn) {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() < end) {
    await fn(n);
    n++;
  }
  const c = process.cpuUsage(c0);
  return { wall: n / ((performance.now() - start) / 1000), cpu: n / ((c.user + c.system) / 1e6) };
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

  const rates = [];
  const rsas = [];
  for (let run = 0; run < RUNS; run++) {
    rsas.push(openssl());
    rates.push(await timeLoop(SECONDS, (n) => verifySignature(blobs[n % COUNT], keyring, 'host')));
  }
  const rate = median(rates.map((r) => r.cpu));
  const wallRate = median(rates.map((r) => r.wall));
  const rsa = median(rsas);
  const { cpu: plain } = await timeLoop(Math.min(SECONDS, 2), async (n) => {
    const message = await openpgp.readMessage({ binaryMessage: blobs[n % COUNT] });
    const r = await openpgp.verify({ message, verificationKeys: publicKey, format: 'binary' });
    await r.signatures[0].verified;
  });

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

  const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
  console.log(`machine: ${machine()}`);
  console.log(`medians of ${RUNS} alternated rounds: ${SECONDS} s of verifying, openssl speed -seconds 2`);
  console.log(
    `kbs-bundler verifySignature (host), one thread  : ${fmt(rate)} signatures/s of CPU time (rounds: ${rates.map((r) => fmt(r.cpu)).join(', ')}); ${fmt(wallRate)}/s of wall time`,
  );
  console.log(
    `openssl speed -seconds 2 rsa3072, verify        : ${fmt(rsa)} verify/s   (kbs-bundler at ${Number.isFinite(rsa) ? ((rate / rsa) * 100).toFixed(0) : 'n/a'}% of raw RSA)`,
  );
  console.log(
    `openpgp.js readMessage + verify loop             : ${fmt(plain)} signatures/s of CPU time   (kbs-bundler ${(rate / plain).toFixed(1)}x)`,
  );
  console.log(
    `gpgv, one process per signature                  : ${Number.isFinite(gpgvMs) ? gpgvMs.toFixed(2) : 'n/a'} ms each (${fmt(1000 / gpgvMs)}/s)`,
  );
  console.log(`target: ≥ 5,000 signatures/s per core: ${verdict(rate >= TARGET)} (${fmt(rate)}/s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
