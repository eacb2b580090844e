import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CommandError } from './run-command.js';

export interface Certificate {
  readonly key: string;
  readonly cert: string;
}

/**
 * A throwaway certificate for localhost and 127.0.0.1 (P-256, valid one day), made with the
 * openssl command-line tool: the demo's HTTPS needs no file in the repository and no key that
 * outlives the process. Nothing is kept on disk. A browser warns about it once; accept it.
 */
export async function makeSelfSignedCertificate(): Promise<Certificate> {
  const directory = await mkdtemp(join(tmpdir(), 'ws-demo-cert-'));
  try {
    const keyPath = join(directory, 'key.pem');
    const certPath = join(directory, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ]);
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CommandError('HTTPS=1 makes a self-signed certificate with the openssl command, which is not installed: install OpenSSL, or run without HTTPS=1');
    }
    throw new CommandError(`HTTPS=1: openssl could not make a self-signed certificate: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
