/** Running the system tools staging relies on (mount, umount, e2fsck, veritysetup, cp, sync). */
import { spawn } from 'node:child_process';
import { ToolError } from '../errors.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runTool(cmd: string, args: readonly string[], options: { input?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) =>
      reject(new ToolError('E_TOOL_MISSING', `${cmd} could not be run: ${e.message}`, { cause: e })),
    );
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a tool and throws ToolError (with its stderr) unless it exits 0. */
export async function mustRun(cmd: string, args: readonly string[], what: string): Promise<ToolResult> {
  const r = await runTool(cmd, args);
  if (r.code !== 0)
    throw new ToolError(
      'E_TOOL_FAILED',
      `${what}: ${cmd} ${args.join(' ')} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`,
    );
  return r;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
