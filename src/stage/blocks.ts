/**
 * Marked blocks that staging appends to guest files it does not own (CA bundles, /etc/hosts):
 *
 *   # BEGIN kbs-bundler <what> (managed by `kbs-bundler stage`; `kbs-bundler unstage` removes it)
 *   …
 *   # END kbs-bundler <what>
 *
 * There is at most one block per file: staging again replaces it, and taking it out gives back
 * the original bytes exactly (a newline that staging had to add before the block is part of it).
 */

export interface BlockKind {
  /** Words after `BEGIN kbs-bundler` / `END kbs-bundler`. */
  what: string;
}

export const CA_BLOCK: BlockKind = { what: 'registry CA certificates' };
export const HOSTS_BLOCK: BlockKind = { what: 'registry addresses' };

export function beginLine(kind: BlockKind): string {
  return `# BEGIN kbs-bundler ${kind.what} (managed by \`kbs-bundler stage\`; \`kbs-bundler unstage\` removes it)`;
}

export function endLine(kind: BlockKind): string {
  return `# END kbs-bundler ${kind.what}`;
}

export interface SplitFile {
  /** The file without the block (and without the newline staging added before it). */
  original: string;
  /** The block as found, '' when there is none. */
  block: string;
  /** Whether a newline was added in front of the block because the original did not end with one. */
  separator: boolean;
}

/**
 * Takes the block out of `content`. `separator` (from the record) says whether the newline just
 * before the block belongs to it; without a record, a block that does not start a line after a
 * newline-terminated original cannot happen, so the guess is "no separator".
 */
export function splitBlock(content: string, kind: BlockKind, separator = false): SplitFile {
  const begin = beginLine(kind);
  const end = endLine(kind);
  let start: number;
  if (content.startsWith(`${begin}\n`)) start = 0;
  else {
    const i = content.indexOf(`\n${begin}\n`);
    if (i === -1) return { original: content, block: '', separator: false };
    start = i + 1;
  }
  const endAt = content.indexOf(`\n${end}\n`, start);
  // An END line missing (someone edited the file) takes the rest of the file as the block.
  const stop = endAt !== -1 ? endAt + end.length + 2 : content.length;
  const sep = separator && start > 0 && content[start - 1] === '\n';
  const from = sep ? start - 1 : start;
  return { original: content.slice(0, from) + content.slice(stop), block: content.slice(from, stop), separator: sep };
}

/** `original` with a block holding `lines` at the end (no block when `lines` is empty). */
export function withBlock(
  original: string,
  kind: BlockKind,
  lines: readonly string[],
): { content: string; separator: boolean } {
  if (lines.length === 0) return { content: original, separator: false };
  const separator = original.length > 0 && !original.endsWith('\n');
  const body = [beginLine(kind), ...lines, endLine(kind)].join('\n');
  return { content: `${original}${separator ? '\n' : ''}${body}\n`, separator };
}
