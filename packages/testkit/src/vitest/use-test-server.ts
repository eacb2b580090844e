import { onTestFinished } from 'vitest';
import { type TestServer, type TestServerOptions, type UpgradeHandler, startTestServer } from '@ws/testkit';

/**
 * `startTestServer` for use inside a vitest test: the server is closed when the test
 * finishes, passed or failed.
 */
export async function useTestServer(handler?: UpgradeHandler, options?: TestServerOptions): Promise<TestServer> {
  const server = await startTestServer(handler, options);
  onTestFinished(() => server.close());
  return server;
}
