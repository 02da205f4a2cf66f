import { type CredentialType, credentials as contract, credentialTypeSchema } from '@automateiq/contracts';
import { createSafeHttpClient, createSecretMask } from '@automateiq/connector-kit';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { checkCredentialData, type CredentialData } from '../../credentials/credential-data';
import { testCredential } from '../../credentials/test-credential';
import { newId } from '../../lib/ids';
import { writeAudit } from '../../security/audit';
import { decryptCredential } from '../../security/vault';
import { deleteCredential } from '../../store/queries/delete-credential';
import { type CredentialRecord, getCredential } from '../../store/queries/get-credential';
import { insertCredential } from '../../store/queries/insert-credential';
import { listCredentials } from '../../store/queries/list-credentials';
import { updateCredential } from '../../store/queries/update-credential';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { decodeCursor, pageOf } from '../cursor';
import { isUniqueViolation } from '../../store/pg-errors';
import { actorOf, tenantOf } from '../request-context';
import { routeOptions } from '../route-options';

/**
 * Credentials: secrets sealed in the vault (security/vault.ts). Secret fields are write-only: answers
 * carry the non-secret fields in `data` and the names of the secret fields that are set in
 * `secretFields`; a PUT that leaves a secret field out keeps its stored value. Every change and every
 * test is audited; no answer, log or error carries a secret value.
 */
export function credentialRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db, vault } = deps;
    const http = createSafeHttpClient({ allow: deps.config.egressAllow });

    app.route({
      ...routeOptions(contract.listCredentials),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor } = request.query;
        const rows = await db.withTenant(tenant.id, (tx) =>
          listCredentials(tx, { tenantId: tenant.id, limit: limit + 1, after: decodeCursor(cursor, 'uuid') }),
        );
        const page = pageOf(rows, limit, (row) => row.id);
        return { items: page.items.map(credentialJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.createCredential),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const { name, type, data } = request.body;
        const checked = check({ type, data });
        const key = await vault.dataKey(tenant.id);
        const id = newId();
        const created = await db.withTenant(tenant.id, async (tx) => {
          const row = await insertCredential(tx, { tenantId: tenant.id, id, name, type, ...stored(checked, key.seal(id, checked.secrets)) }).catch(
            nameTaken(name),
          );
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'credential.create',
            target: { type: 'credential', id },
            details: { name, type },
          });
          return row;
        });
        return reply.code(201).send(credentialJson(created));
      },
    });

    app.route({
      ...routeOptions(contract.getCredential),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const found = await db.withTenant(tenant.id, (tx) =>
          getCredential(tx, { tenantId: tenant.id, credentialId: request.params.id }),
        );
        if (!found) throw notFound('AIQ_CREDENTIAL_NOT_FOUND', 'credential', request.params.id);
        return credentialJson(found);
      },
    });

    app.route({
      ...routeOptions(contract.updateCredential),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const credentialId = request.params.id;
        const { name, type, data } = request.body;
        const key = await vault.dataKey(tenant.id);
        return db.withTenant(tenant.id, async (tx) => {
          const current = await getCredential(tx, { tenantId: tenant.id, credentialId, forUpdate: true });
          if (!current) throw notFound('AIQ_CREDENTIAL_NOT_FOUND', 'credential', credentialId);
          // Stored secrets carry over only to the same type: another type has other fields.
          const storedSecrets = current.type === type ? key.open(current.id, current.sealedData) : undefined;
          const checked = check({ type, data, stored: storedSecrets });
          const updated = await updateCredential(tx, {
            tenantId: tenant.id,
            id: credentialId,
            name,
            type,
            ...stored(checked, key.seal(credentialId, checked.secrets)),
          }).catch(nameTaken(name));
          if (!updated) throw notFound('AIQ_CREDENTIAL_NOT_FOUND', 'credential', credentialId);
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'credential.update',
            target: { type: 'credential', id: credentialId },
            details: { name, type, fields: Object.keys(data) },
          });
          return credentialJson(updated);
        });
      },
    });

    app.route({
      ...routeOptions(contract.deleteCredential),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const credentialId = request.params.id;
        await db.withTenant(tenant.id, async (tx) => {
          const name = await deleteCredential(tx, { tenantId: tenant.id, credentialId });
          if (name === undefined) throw notFound('AIQ_CREDENTIAL_NOT_FOUND', 'credential', credentialId);
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'credential.delete',
            target: { type: 'credential', id: credentialId },
            details: { name },
          });
        });
        return reply.code(204).send(null);
      },
    });

    app.route({
      ...routeOptions(contract.testCredential),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const credentialId = request.params.id;
        const key = await vault.dataKey(tenant.id);
        const found = await db.withTenant(tenant.id, (tx) => getCredential(tx, { tenantId: tenant.id, credentialId }));
        if (!found) throw notFound('AIQ_CREDENTIAL_NOT_FOUND', 'credential', credentialId);
        const credential = decryptCredential(found, key);
        const result = await testCredential({
          type: storedType(found),
          fields: credential.value,
          http,
          egressAllow: deps.config.egressAllow,
        });
        // Whatever a server answered (an echoed client secret …) never reaches the caller.
        const answer = { ok: result.ok, message: createSecretMask(credential.secrets).text(result.message) };
        await db.withTenant(tenant.id, (tx) =>
          writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'credential.test',
            target: { type: 'credential', id: credentialId },
            details: { name: found.name, ok: answer.ok, message: answer.message },
          }),
        );
        return answer;
      },
    });
  };
}

/** `data` checked against the type; a problem is a 400 naming `body.data.<field>`. */
function check(args: {
  type: CredentialType;
  data: Readonly<Record<string, unknown>>;
  stored?: Readonly<Record<string, unknown>> | undefined;
}): CredentialData {
  const result = checkCredentialData(args);
  if (result.ok) return result.value;
  const first = result.errors[0];
  throw new ApiError('AIQ_VALIDATION', first ? `${first.path}: ${first.message}` : 'body.data is not valid', {
    errors: result.errors,
  });
}

function stored(data: CredentialData, sealedData: Buffer) {
  return { publicData: data.publicData, sealedData, secretFields: Object.keys(data.secrets) };
}

function storedType(row: CredentialRecord): CredentialType {
  const parsed = credentialTypeSchema.safeParse(row.type);
  if (!parsed.success) throw new Error(`credential ${row.id} has the unknown type "${row.type}"`);
  return parsed.data;
}

function nameTaken(name: string) {
  return (error: unknown): never => {
    if (isUniqueViolation(error, 'credentials_name'))
      throw new ApiError('AIQ_NAME_TAKEN', `a credential named "${name}" exists`, {
        errors: [{ path: 'body.name', message: 'another credential has this name' }],
      });
    throw error;
  };
}

function credentialJson(row: CredentialRecord) {
  return {
    id: row.id,
    name: row.name,
    type: storedType(row),
    data: row.publicData as Record<string, never>,
    secretFields: row.secretFields,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
