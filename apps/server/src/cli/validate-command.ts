import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import { formatIssue } from '@automateiq/core';
import { readDefinitionFile } from '../workflows/read-definition-file';

/** `aiq validate FILE...`: every problem on its own line as `FILE:PATH: message`; exit 0 when all are valid, else 1. */
export function validateCommand(
  files: readonly string[],
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): number {
  if (files.length === 0) {
    out.stderr.write('usage: aiq validate FILE...\n');
    return 2;
  }
  const registry = createConnectorRegistry(builtInConnectors);
  let invalid = 0;
  for (const file of files) {
    const result = readDefinitionFile(file, registry);
    if (result.ok) {
      out.stdout.write(`${file}: valid\n`);
    } else {
      invalid++;
      for (const issue of result.errors) out.stderr.write(`${formatIssue(file, issue)}\n`);
    }
  }
  return invalid === 0 ? 0 : 1;
}
