import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type LoadedDefinition, loadDefinition, type NodeTypeRegistry } from '@automateiq/core';

/** Reads and validates a workflow file (`.json` as JSON, anything else as YAML). */
export function readDefinitionFile(file: string, registry: NodeTypeRegistry): LoadedDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { ok: false, errors: [{ path: '', message: `cannot read the file: ${reason}` }] };
  }
  const format = extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
  return loadDefinition(text, { format, registry });
}
