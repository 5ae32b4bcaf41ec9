import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TemplateError, renderTemplate, tomlArray, tomlString, yamlString } from '../../src/render/template.js';

const NASTY = [
  'plain',
  `quotes " and ' and ''' and """ and \\ backslash`,
  'new\nline\r\nand\ttab and \u0001 control and \u007f del',
  'unicode é 雪 🙂 \u2028 \ufeff',
  '{{not | toml}} a placeholder',
];

describe('template escaping', () => {
  it("writes TOML strings that parse back to the same value, also inside an outer ''' literal", () => {
    for (const value of NASTY) {
      expect(parseToml(`v = ${tomlString(value)}`).v).toBe(value);
      // initdata: cdh.toml is TOML inside a literal multi-line string of the outer TOML.
      const outer = parseToml(
        `"cdh.toml" = '''\nv = ${tomlString(value)}\nw = ${tomlArray([value, `${value}\n`])}\n'''\n`,
      );
      const inner = parseToml(outer['cdh.toml'] as string);
      expect(inner.v).toBe(value);
      expect(inner.w).toEqual([value, `${value}\n`]);
    }
  });

  it('writes YAML scalars that parse back to the same value', () => {
    for (const value of NASTY) expect((parseYaml(`v: ${yamlString(value)}`) as { v: unknown }).v).toBe(value);
  });
});

describe('renderTemplate', () => {
  it('substitutes with the named filter and keeps or drops sections', () => {
    const text = 'a = {{x | toml}}\n{{#y}}\nb = {{y | toml}}\n{{/y}}\n{{^y}}\nc = "no y"\n{{/y}}\n';
    expect(renderTemplate('t', text, { x: 'X', y: 'Y' })).toBe('a = "X"\nb = "Y"\n');
    expect(renderTemplate('t', text, { x: 'X', y: undefined })).toBe('a = "X"\nc = "no y"\n');
  });

  it('does not re-expand placeholders found in values', () => {
    expect(renderTemplate('t', 'v: {{a | yaml}}', { a: '{{b | yaml}}', b: 'B' })).toBe('v: "{{b | yaml}}"');
  });

  it('refuses unknown names and filters, malformed and unclosed tags, wrong value kinds', () => {
    expect(() => renderTemplate('t', 'a = {{x | toml}}', {})).toThrow(/t:1: no value named x/);
    expect(() => renderTemplate('t', 'a = {{x | shell}}', { x: 'v' })).toThrow(/t:1: unknown filter shell/);
    expect(() => renderTemplate('t', 'a = {{x}}', { x: 'v' })).toThrow(/t:1: malformed placeholder/);
    expect(() => renderTemplate('t', '{{#x}}\na', { x: 'v' })).toThrow(/never closed/);
    expect(() => renderTemplate('t', 'a\n{{/x}}', { x: 'v' })).toThrow(/t:2: \{\{\/x\}\} closes nothing/);
    expect(() => renderTemplate('t', 'a = {{x | toml}}', { x: ['v'] })).toThrow(TemplateError);
    expect(() => renderTemplate('t', 'a = {{x | kernel}}', { x: 'has space' })).toThrow(
      /cannot go on a kernel command line/,
    );
    expect(() => renderTemplate('t', 'a = {{x | toml-integer}}', { x: '1e3' })).toThrow(/not a non-negative integer/);
  });
});
