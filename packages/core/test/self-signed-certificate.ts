import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificate {
  readonly key: string;
  readonly cert: string;
}

let made: Certificate | undefined;

/**
 * A throwaway certificate for 127.0.0.1 and localhost (P-256, valid one day), made with the
 * openssl command-line tool on first use and shared by the tests of one process. Clients trust
 * it by passing it as `ca`. Nothing is kept on disk.
 */
export function selfSignedCertificate(): Certificate {
  if (made !== undefined) return made;
  const directory = mkdtempSync(join(tmpdir(), 'ws-cert-'));
  try {
    const keyPath = join(directory, 'key.pem');
    const certPath = join(directory, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    made = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
    return made;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
