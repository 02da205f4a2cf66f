/**
 * Roles and what they may do: the permission matrix (docs/permissions.md shows it as a table).
 * The API checks a route's permission in one place (the server's access hook); API keys carry a
 * subset of these permissions as their scopes.
 */
export const Role = {
  owner: 'owner',
  admin: 'admin',
  editor: 'editor',
  operator: 'operator',
  viewer: 'viewer',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES = Object.values(Role);

export const Permission = {
  /** Read workflows, their versions and the connector catalogue. */
  workflowRead: 'workflow:read',
  /** Create, change, activate, deactivate and delete workflows. */
  workflowWrite: 'workflow:write',
  /** Read runs, their steps and logs, and stream their changes. */
  runRead: 'run:read',
  /** Start runs. */
  runStart: 'run:start',
  /** Cancel and retry runs, send them events. */
  runControl: 'run:control',
  /** Read credentials (never their secret fields). */
  credentialRead: 'credential:read',
  /** Create, change, test and delete credentials. */
  credentialWrite: 'credential:write',
  /** List the tenant's members. */
  memberRead: 'member:read',
  /** Add, change and remove members (only an owner makes or unmakes owners). */
  memberWrite: 'member:write',
  /** List and create/revoke API keys. */
  apiKeyRead: 'api-key:read',
  apiKeyWrite: 'api-key:write',
  /** Read the audit trail. */
  auditRead: 'audit:read',
  /** Read the tenant, its plan, quotas and usage. */
  tenantRead: 'tenant:read',
  /** Change the tenant's own settings (e.g. require a second factor). */
  tenantWrite: 'tenant:write',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];
export const PERMISSIONS = Object.values(Permission);

const viewer: Permission[] = [
  Permission.workflowRead,
  Permission.runRead,
  Permission.credentialRead,
  Permission.tenantRead,
];
const operator: Permission[] = [...viewer, Permission.runStart, Permission.runControl];
const editor: Permission[] = [...operator, Permission.workflowWrite, Permission.credentialWrite];
const admin: Permission[] = [
  ...editor,
  Permission.memberRead,
  Permission.memberWrite,
  Permission.apiKeyRead,
  Permission.apiKeyWrite,
  Permission.auditRead,
];
const owner: Permission[] = [...admin, Permission.tenantWrite];

/** The permission matrix: what each role may do. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  owner: new Set(owner),
  admin: new Set(admin),
  editor: new Set(editor),
  operator: new Set(operator),
  viewer: new Set(viewer),
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
