import { planSchema, tenants as contract } from '@automateiq/contracts';
import type { Config } from '../config';
import { UserError } from '../lib/user-error';
import { createLogger } from '../observability/logger';
import { openPlatform } from '../platform';
import { SYSTEM_ACTOR } from '../security/principal';
import { onboardTenant, SlugTakenError } from '../tenancy/onboard-tenant';

export interface TenantsCreateArgs {
  name: string | undefined;
  slug: string | undefined;
  ownerEmail: string | undefined;
  ownerPassword?: string | undefined;
  plan?: string | undefined;
}

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * `aiq tenants create --name N --slug S --owner-email E [--plan P] [--owner-password P]`: onboards a
 * tenant (the same transaction as POST /v1/tenants) and prints its id, owner and API key (shown once)
 * as JSON. Bad arguments: one line per problem naming the option, exit 2.
 */
export async function tenantsCreateCommand(args: TenantsCreateArgs, config: Config, out: Out): Promise<number> {
  const parsed = contract.createTenant.body.safeParse({
    name: args.name,
    slug: args.slug,
    ownerEmail: args.ownerEmail,
    ...(args.ownerPassword === undefined ? {} : { ownerPassword: args.ownerPassword }),
    ...(args.plan === undefined ? {} : { plan: args.plan }),
  });
  if (!parsed.success) {
    const option = { name: '--name', slug: '--slug', ownerEmail: '--owner-email', ownerPassword: '--owner-password', plan: '--plan' };
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      out.stderr.write(`${option[key as keyof typeof option] ?? key}: ${issue.message}\n`);
    }
    return 2;
  }
  const body = parsed.data;
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const platform = await openPlatform({ config, logger, maxConnections: 2 });
  try {
    const onboarded = await onboardTenant(platform.db, {
      ...body,
      plan: body.plan === undefined ? undefined : planSchema.parse(body.plan),
      actor: { ...SYSTEM_ACTOR, label: 'aiq tenants create' },
    });
    out.stdout.write(
      `${JSON.stringify(
        {
          tenant: { id: onboarded.tenant.id, slug: onboarded.tenant.slug, name: onboarded.tenant.name, plan: onboarded.tenant.plan },
          owner: { id: onboarded.owner.id, email: onboarded.owner.email },
          apiKey: onboarded.apiKey.key,
          ...(onboarded.inviteToken ? { inviteToken: onboarded.inviteToken } : {}),
        },
        null,
        2,
      )}\n`,
    );
    out.stderr.write('The API key (and invite token) are shown once: keep them now.\n');
    return 0;
  } catch (error) {
    if (error instanceof SlugTakenError) throw new UserError(`--slug: ${error.message}`);
    throw error;
  } finally {
    await platform.close();
  }
}
