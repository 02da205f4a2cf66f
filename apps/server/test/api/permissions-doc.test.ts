/**
 * docs/permissions.md shows the permission matrix and the route table as they are: both tables are
 * generated here from `@automateiq/contracts` (ROLE_PERMISSIONS and every route's access rule) and
 * must equal the file's generated blocks. The prose around them is the file's own.
 * To update the file: `npx vitest run apps/server/test/api/permissions-doc.test.ts -u`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Access, PERMISSIONS, ROLE_PERMISSIONS, ROLES } from '@automateiq/contracts';
import { describe, expect, it } from 'vitest';
import { contractRoutes } from './route-catalogue';

const DOC = '../../../../docs/permissions.md';

/** The generated blocks of the document, by name. */
const BLOCKS: Record<string, () => string> = {
  'permission-matrix': permissionMatrix,
  'route-permissions': routePermissions,
};

function permissionMatrix(): string {
  const lines = [`| permission | ${ROLES.join(' | ')} |`, `| --- | ${ROLES.map(() => ':-:').join(' | ')} |`];
  for (const permission of PERMISSIONS)
    lines.push(`| \`${permission}\` | ${ROLES.map((role) => (ROLE_PERMISSIONS[role].has(permission) ? '✓' : '')).join(' | ')} |`);
  return lines.join('\n');
}

function who(access: Access): [string, string] {
  switch (access.kind) {
    case 'public':
      return ['public', 'anybody, without credentials'];
    case 'session':
      return ['session', 'any authenticated caller'];
    case 'platform':
      return ['platform', 'platform admins'];
    case 'tenant': {
      const roles = ROLES.filter((role) => ROLE_PERMISSIONS[role].has(access.permission));
      const admins = access.platformAdmin ? '; platform admins, for any tenant' : '';
      return [`\`${access.permission}\``, `${roles.join(', ')}; keys with the scope${admins}`];
    }
  }
}

function routePermissions(): string {
  const lines = ['| route | needs | who may call it |', '| --- | --- | --- |'];
  for (const route of contractRoutes()) {
    const [needs, callers] = who(route.access);
    lines.push(`| \`${route.method} ${route.url}\` | ${needs} | ${callers} |`);
  }
  return lines.join('\n');
}

/** The document with every generated block rewritten from the contracts. */
function renderPermissionsDoc(current: string): string {
  let text = current;
  for (const [name, render] of Object.entries(BLOCKS)) {
    const begin = `<!-- BEGIN GENERATED ${name}: permissions-doc.test.ts -->`;
    const end = `<!-- END GENERATED ${name} -->`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/permissions.md lacks the markers ${begin} … ${end}`);
    text = `${text.slice(0, from + begin.length)}\n${render()}\n${text.slice(to)}`;
  }
  return text;
}

describe('docs/permissions.md', () => {
  it('shows the current permission matrix and route table', async () => {
    const path = fileURLToPath(new URL(DOC, import.meta.url));
    const current = readFileSync(path, 'utf8');
    const expected = renderPermissionsDoc(current);
    if (expected !== current)
      console.error(
        'docs/permissions.md is out of date. Update it with\n' +
          '  npx vitest run apps/server/test/api/permissions-doc.test.ts -u\n' +
          `or replace it with:\n\n${expected}`,
      );
    await expect(expected).toMatchFileSnapshot(DOC);
  });
});
