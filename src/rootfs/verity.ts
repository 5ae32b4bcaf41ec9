/**
 * Re-making the dm-verity hash tree of a measured kata image (p1 data, p2 hash tree, no verity
 * superblock) after p1 changed, as kata's image_builder does it (`veritysetup format
 * --no-superblock p1 p2`), and the `kernel_verity_params` value the runtime needs for it.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ToolError } from '../errors.js';
import type { Partition } from './detect.js';
import { isRoot, mustRun, runTool } from './tools.js';

export const VERITY_BLOCK_SIZE = 4096;

export interface VerityResult {
  rootHash: string;
  salt: string;
  dataBlocks: number;
  dataBlockSize: number;
  hashBlockSize: number;
  /** `root_hash=…,salt=…,data_blocks=…,data_block_size=…,hash_block_size=…` */
  kernelVerityParams: string;
}

export async function reformatVerity(image: string, data: Partition, hash: Partition): Promise<VerityResult> {
  const dataBlocks = Math.floor(data.size / VERITY_BLOCK_SIZE);
  const args = [
    'format',
    '--no-superblock',
    `--data-block-size=${VERITY_BLOCK_SIZE}`,
    `--hash-block-size=${VERITY_BLOCK_SIZE}`,
    `--data-blocks=${dataBlocks}`,
    `--hash-offset=${hash.offset}`,
  ];
  const out = await withDataDevice(image, data, (device) =>
    mustRun('veritysetup', [...args, device, image], 'rebuilding the dm-verity hash tree'),
  );
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(out.stdout);
    if (!m) throw new ToolError('E_VERITY', `veritysetup format printed no "${name}"`);
    return m[1] as string;
  };
  const hashBlocks = Number(field('Hash blocks'));
  if (hashBlocks * VERITY_BLOCK_SIZE > hash.size) {
    throw new ToolError(
      'E_VERITY',
      `the hash tree (${hashBlocks} blocks) does not fit partition 2 (${hash.size} bytes)`,
    );
  }
  const result = {
    rootHash: field('Root hash'),
    salt: field('Salt'),
    dataBlocks: Number(field('Data blocks')),
    dataBlockSize: Number(field('Data block size')),
    hashBlockSize: Number(field('Hash block size')),
  };
  return {
    ...result,
    kernelVerityParams: `root_hash=${result.rootHash},salt=${result.salt},data_blocks=${result.dataBlocks},data_block_size=${result.dataBlockSize},hash_block_size=${result.hashBlockSize}`,
  };
}

/** p1 as a device: a read-only loop device at its offset (root), else a temporary copy. */
async function withDataDevice<T>(image: string, data: Partition, fn: (device: string) => Promise<T>): Promise<T> {
  if (isRoot()) {
    const r = await runTool('losetup', [
      '-r',
      '-f',
      '--show',
      '-o',
      String(data.offset),
      '--sizelimit',
      String(data.size),
      image,
    ]);
    if (r.code === 0) {
      const device = r.stdout.trim();
      try {
        return await fn(device);
      } finally {
        await runTool('losetup', ['-d', device]);
      }
    }
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-verity-'));
  try {
    const copy = path.join(dir, 'p1');
    await pipeline(
      createReadStream(image, { start: data.offset, end: data.offset + data.size - 1 }),
      createWriteStream(copy),
    );
    return await fn(copy);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
