import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { WorkflowDefinition } from './model';
import type { NodeTypeRegistry } from './node-type';
import { parsePath, type ValidationIssue, validateDefinition } from './validate';

/** Source formats of a definition. JSON is read strictly as JSON; lines come from the YAML parser. */
export const DefinitionFormat = { yaml: 'yaml', json: 'json' } as const;
export type DefinitionFormat = (typeof DefinitionFormat)[keyof typeof DefinitionFormat];

export type ParsedDefinitionText =
  | {
      ok: true;
      /** The plain data, not yet validated. */
      raw: unknown;
      /** 1-based line of the value at an issue path; for a path that is absent, of its nearest present ancestor. */
      lineOf(path: string): number | undefined;
    }
  | { ok: false; errors: ValidationIssue[] };

/** Most YAML aliases one definition may expand (guards against alias bombs). */
const MAX_ALIAS_COUNT = 100;

/**
 * Reads definition text. Syntax errors become issues with path `""` and their line. JSON text is
 * also parsed by the YAML parser (JSON is YAML) so that `lineOf` works for both.
 */
export function parseDefinitionText(text: string, opts: { format: DefinitionFormat }): ParsedDefinitionText {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;

  let raw: unknown;
  if (opts.format === 'json') {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { ok: false, errors: [jsonSyntaxIssue(err, text, doc.errors[0]?.pos[0])] };
    }
  } else {
    if (doc.errors.length > 0) {
      return {
        ok: false,
        errors: doc.errors.map((e) => ({ path: '', message: firstLine(e.message), line: lineAt(e.pos[0]) })),
      };
    }
    try {
      raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      return { ok: false, errors: [{ path: '', message: err instanceof Error ? err.message : String(err) }] };
    }
  }

  // A JSON text the YAML parser does not read alike (rare) simply has no lines.
  const root = doc.errors.length === 0 ? doc.contents : null;
  return {
    ok: true,
    raw,
    lineOf(path: string): number | undefined {
      const segments = parsePath(path);
      if (segments === undefined || root === null) return undefined;
      let node: unknown = root;
      let line: number | undefined;
      for (const seg of segments) {
        const found = child(node, seg);
        if (found === undefined) break;
        line = found.offset === undefined ? line : lineAt(found.offset);
        node = found.node;
      }
      return line;
    },
  };
}

/** The child at `seg` and the offset of where it is written (its key, for a map entry). */
function child(
  node: unknown,
  seg: string | number,
): { node: unknown; offset: number | undefined } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key: unknown = pair.key;
      const name = isScalar(key) ? String(key.value) : key;
      if (name === String(seg)) {
        return { node: pair.value, offset: startOf(key) ?? startOf(pair.value) };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item: unknown = node.items[seg];
    return item === undefined ? undefined : { node: item, offset: startOf(item) };
  }
  return undefined;
}

function startOf(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

/** Node's JSON messages give a position only sometimes; else the YAML parser's first error tells where. */
function jsonSyntaxIssue(err: unknown, text: string, yamlErrorOffset: number | undefined): ValidationIssue {
  const message = err instanceof Error ? err.message : String(err);
  const lineAt = (offset: number): number => text.slice(0, offset).split('\n').length;
  const position = /position (\d+)/.exec(message)?.[1];
  const issue: ValidationIssue = { path: '', message: `invalid JSON: ${firstLine(message)}` };
  if (position !== undefined) issue.line = lineAt(Number(position));
  else if (/end of JSON input/.test(message)) issue.line = lineAt(text.length);
  else if (yamlErrorOffset !== undefined) issue.line = lineAt(yamlErrorOffset);
  return issue;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

export type LoadedDefinition =
  | { ok: true; definition: WorkflowDefinition }
  | { ok: false; errors: ValidationIssue[] };

/** Parses and validates definition text; every issue carries its line when it has one. */
export function loadDefinition(
  text: string,
  opts: { format: DefinitionFormat; registry: NodeTypeRegistry },
): LoadedDefinition {
  const parsed = parseDefinitionText(text, { format: opts.format });
  if (!parsed.ok) return parsed;
  const result = validateDefinition(parsed.raw, opts.registry);
  if (result.ok) return result;
  return {
    ok: false,
    errors: result.errors.map((issue) => {
      const line = issue.line ?? parsed.lineOf(issue.path);
      return line === undefined ? issue : { ...issue, line };
    }),
  };
}

/** One issue for people and editors: `FILE:PATH: message (line N)`, or `FILE: message` for path `""`. */
export function formatIssue(file: string, issue: ValidationIssue): string {
  const where = issue.path === '' ? file : `${file}:${issue.path}`;
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return `${where}: ${issue.message}${line}`;
}
