import { afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from './self-signed-certificate.js';

const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
});

describe('makeSelfSignedCertificate', () => {
  it('makes a PEM key and certificate with openssl', async () => {
    const { key, cert } = await makeSelfSignedCertificate();
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('says in one line what to do when openssl is not installed', async () => {
    process.env.PATH = '/nonexistent';
    await expect(makeSelfSignedCertificate()).rejects.toThrow(
      'HTTPS=1 makes a self-signed certificate with the openssl command, which is not installed: install OpenSSL, or run without HTTPS=1',
    );
  });
});
