import { X509Certificate } from 'node:crypto';

/**
 * Every certificate of a PEM bundle, each checked to be a CA (a leaf would be trusted for one name
 * only, and is a mistake in a file meant to hold authorities). Throws an Error saying what is wrong.
 */
export function caCertificates(pemText: string): string[] {
  const pems = pemText.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
  if (!pems) throw new Error('no PEM certificate in the file');
  for (const pem of pems) {
    const cert = new X509Certificate(pem);
    if (!cert.ca) throw new Error(`"${cert.subject.replace(/\n/g, ', ')}" is not a CA`);
  }
  return pems;
}
