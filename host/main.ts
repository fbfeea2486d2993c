/**
 * `npm start`: the reference CRM with the Business Portal installed (and, in the demo, the demo
 * data and logins), configured from the environment (see host/config.ts).
 */
import { ConfigError, readConfig } from './config.js';
import { PluginRefusedError } from './plugins/plugin-loader.js';
import { seedDemoData } from './demo/demo-data.js';
import { createReferenceHost } from './reference-host.js';

async function main(): Promise<void> {
  const options = readConfig();
  const host = await createReferenceHost(options);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the CRM…`);
    host.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('The CRM did not stop cleanly:', error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  await host.start();
  const demo = options.demo ? await seedDemoData(host) : null;
  await host.listen();

  const http = host.api.http;
  const lines = [
    '',
    `CRM            ${http.publicUrl('/')}`,
    `CRM login      ${http.publicUrl('/login')}  ${demo ? `${demo.adminUser} / ${demo.adminPassword}` : 'admin (password: ADMIN_PASSWORD, or the one printed at the first start)'}`,
    `Portal         ${http.publicUrl(options.portalPath ?? '/portal')}`,
    ...(demo ? demo.customers.map((c) => `  demo customer ${c.email} / ${c.password}  (${c.account}, ${c.language})`) : []),
    ...(options.smtpUrl ? [] : [`Outbox         ${http.publicUrl('/outbox')}  (SMTP_URL is not set: mail is kept there)`]),
    '',
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  // Configuration and refused plugins are explained in a sentence; anything else with its stack.
  if (error instanceof ConfigError || error instanceof PluginRefusedError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
