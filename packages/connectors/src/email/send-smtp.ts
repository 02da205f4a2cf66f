import { ConnectorError, type SafeHttpClient } from '@automateiq/connector-kit';
import { createTransport } from 'nodemailer';

/** One message to send. */
export interface OutgoingMail {
  to: readonly string[];
  subject: string;
  text: string;
  html?: string | undefined;
}

/**
 * Sends a message through the SMTP server of a credential of type `smtp` (`host`, `port` (default 465
 * when `secure`, else 587), `secure`, `username`, `password`, `from`). The host must pass the egress
 * policy, as for HTTP. Connection failures and 4xx replies are retryable; 5xx replies are not.
 */
export async function sendSmtp(args: {
  credential: Readonly<Record<string, unknown>> | undefined;
  http: SafeHttpClient;
  signal: AbortSignal;
  mail: OutgoingMail;
}): Promise<{ messageId: string }> {
  const credential = args.credential;
  if (credential?.type !== 'smtp' || typeof credential.host !== 'string')
    throw ConnectorError.fatal('CREDENTIAL_INVALID', 'sending e-mail needs a credential of type smtp on the node');
  const secure = credential.secure === true;
  const port = typeof credential.port === 'number' ? credential.port : secure ? 465 : 587;
  await args.http.checkHost(credential.host, args.signal);
  const from = typeof credential.from === 'string' && credential.from !== '' ? credential.from : `automateiq@${credential.host}`;
  const transport = createTransport({
    host: credential.host,
    port,
    secure,
    ...(typeof credential.username === 'string' && credential.username !== ''
      ? { auth: { user: credential.username, pass: typeof credential.password === 'string' ? credential.password : '' } }
      : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    const info = await transport.sendMail({ from, to: [...args.mail.to], subject: args.mail.subject, text: args.mail.text, html: args.mail.html });
    return { messageId: String(info.messageId) };
  } catch (cause) {
    const code = (cause as { responseCode?: unknown }).responseCode;
    const message = `the SMTP server ${credential.host}:${port} refused the message: ${(cause as Error).message}`;
    throw typeof code === 'number' && code >= 500
      ? ConnectorError.fatal('SMTP_REFUSED', message, { responseCode: code }, { cause })
      : ConnectorError.retryable('SMTP_FAILED', message, typeof code === 'number' ? { responseCode: code } : undefined, { cause });
  } finally {
    transport.close();
  }
}
