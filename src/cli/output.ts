/** Terminal output for commands: colour (off under NO_COLOR or when not a TTY), JSON, progress. */
import { stderr, stdout } from 'node:process';

export function colorEnabled(stream: NodeJS.WriteStream = stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

function paint(code: string, s: string, stream: NodeJS.WriteStream = stdout): string {
  return colorEnabled(stream) ? `\u001b[${code}m${s}\u001b[0m` : s;
}

export const style = {
  good: (s: string) => paint('32', s),
  bad: (s: string) => paint('31', s),
  warn: (s: string) => paint('33', s),
  dim: (s: string) => paint('2', s),
  bold: (s: string) => paint('1', s),
};

export function printLine(s = ''): void {
  stdout.write(`${s}\n`);
}

let jsonPrinted = false;

export function printJson(value: unknown): void {
  jsonPrinted = true;
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Whether the command already printed its --json document (an error then does not print a second one). */
export function jsonWasPrinted(): boolean {
  return jsonPrinted;
}

export function warnLine(s: string): void {
  stderr.write(`${paint('33', s, stderr)}\n`);
}

/**
 * Progress on stderr for long work: a rewritten line on a TTY, an occasional line otherwise
 * (at most every 2 s) so that logs stay short. Domain code reports through a plain callback.
 */
export function progressReporter(label: string): (done: number, total: number) => void {
  const tty = Boolean(stderr.isTTY);
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    const finished = done >= total;
    if (!finished && now - last < (tty ? 100 : 2000)) return;
    last = now;
    const text = `${label}: ${done}/${total}`;
    if (tty) stderr.write(`\r${text}${finished ? '\n' : ''}`);
    else if (total >= 100) stderr.write(`${text}\n`);
  };
}
