import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { UserError } from '../lib/user-error';
import { startEmbeddedPostgres } from '../store/embedded-postgres';
import { migrate } from '../store/migrate';
import { keysRotateCommand } from './keys-rotate-command';
import { runCommand } from './run-command';
import { tenantsCreateCommand } from './tenants-create-command';
import { Role, startCommand } from './start-command';
import { validateCommand } from './validate-command';

const USAGE = `usage: aiq <command>

  aiq start [--role all|api|worker|scheduler] [--port N]   run the platform
  aiq run FILE [--input JSON|@file] [--tenant SLUG]        run a workflow file once
  aiq validate FILE...                                     check workflow files
  aiq migrate                                              apply database migrations
  aiq tenants create --name N --slug S --owner-email E [--plan P] [--owner-password P]
                                                           onboard a tenant; prints its API key once
  aiq keys rotate [--new-key BASE64]                       new master key; re-wraps the tenants' data keys
`;

const out = { stdout: process.stdout, stderr: process.stderr };

/** The `aiq` command. Returns the exit code; errors a user can fix are one line on stderr, never a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'validate':
      return validateCommand(rest, out);
    case 'run': {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: { input: { type: 'string' }, tenant: { type: 'string', default: 'local' } },
      });
      const [file, ...extra] = positionals;
      if (!file || extra.length > 0) return usage('aiq run takes one FILE');
      return runCommand({ file, input: values.input, tenant: values.tenant }, loadConfig(), out);
    }
    case 'start': {
      const { values } = parseArgs({
        args: [...rest],
        options: { role: { type: 'string', default: 'all' }, port: { type: 'string' } },
      });
      if (!(values.role in Role))
        return usage(`--role: "${values.role}" is not one of all, api, worker, scheduler`);
      const port = values.port === undefined ? undefined : Number(values.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
        return usage(`--port: "${values.port}" is not a port`);
      await startCommand({ role: values.role as Role, port }, loadConfig());
      return -1;
    }
    case 'migrate': {
      const config = loadConfig();
      const embedded = config.databaseUrl
        ? undefined
        : await startEmbeddedPostgres({ dataDir: config.dataDir });
      try {
        const applied = await migrate(config.databaseUrl ?? embedded?.url ?? '');
        out.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'the database is up to date\n');
        return 0;
      } finally {
        await embedded?.stop();
      }
    }
    case 'tenants': {
      const [sub, ...options] = rest;
      if (sub !== 'create') return usage(`aiq tenants takes the subcommand create`);
      const { values, positionals } = parseArgs({
        args: options,
        allowPositionals: true,
        options: {
          name: { type: 'string' },
          slug: { type: 'string' },
          'owner-email': { type: 'string' },
          'owner-password': { type: 'string' },
          plan: { type: 'string' },
        },
      });
      if (positionals.length > 0) return usage(`aiq tenants create takes no argument "${positionals[0]}"`);
      return tenantsCreateCommand(
        {
          name: values.name,
          slug: values.slug,
          ownerEmail: values['owner-email'],
          ownerPassword: values['owner-password'],
          plan: values.plan,
        },
        loadConfig(),
        out,
      );
    }
    case 'keys': {
      const [sub, ...options] = rest;
      if (sub !== 'rotate') return usage('aiq keys takes the subcommand rotate');
      const { values } = parseArgs({ args: options, options: { 'new-key': { type: 'string' } } });
      return keysRotateCommand({ newKey: values['new-key'] }, loadConfig(), out);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(message: string): number {
  out.stderr.write(`aiq: ${message}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    const known =
      error instanceof UserError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    process.stderr.write(
      `aiq: ${known ? (error as Error).message : `unexpected error: ${(error as Error).stack ?? String(error)}`}\n`,
    );
    process.exit(known ? 2 : 70);
  },
);
