import { describe, expect, it } from 'vitest';
import { HOSTS_BLOCK, splitBlock, withBlock } from '../../src/stage/blocks.js';

describe('marked blocks', () => {
  it.each([
    ['ends with a newline', '127.0.0.1 localhost\n'],
    ['does not end with a newline', '127.0.0.1 localhost'],
    ['is empty', ''],
    ['has CRLF lines and latin1 bytes', '127.0.0.1 localhost\r\n# caf\xe9\r\n'],
  ])('round-trips a file that %s, byte for byte', (_name, original) => {
    const { content, separator } = withBlock(original, HOSTS_BLOCK, ['192.0.2.10 registry.example.com']);
    expect(content.startsWith(original)).toBe(true);
    expect(content).toContain('\n192.0.2.10 registry.example.com\n# END kbs-bundler registry addresses\n');
    expect(separator).toBe(original.length > 0 && !original.endsWith('\n'));
    const split = splitBlock(content, HOSTS_BLOCK, separator);
    expect(split.original).toBe(original);
    // staging again with other lines replaces the block instead of adding one
    const again = withBlock(split.original, HOSTS_BLOCK, ['192.0.2.11 registry.example.com']);
    expect(again.content.match(/BEGIN kbs-bundler/g)).toHaveLength(1);
    expect(splitBlock(again.content, HOSTS_BLOCK, again.separator).original).toBe(original);
  });

  it('finds no block in a file without one and does not touch text that merely mentions the marker', () => {
    const text = 'x # BEGIN kbs-bundler registry addresses\n';
    expect(splitBlock(text, HOSTS_BLOCK)).toEqual({ original: text, block: '', separator: false });
  });

  it('an empty line list writes no block', () => {
    expect(withBlock('a\n', HOSTS_BLOCK, [])).toEqual({ content: 'a\n', separator: false });
  });
});
