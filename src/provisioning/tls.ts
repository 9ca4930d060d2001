import fs from 'node:fs';
import type { Socket } from 'node:net';
import {
  createSecureContext,
  TLSSocket,
  type SecureContextOptions,
  type Server,
  type TlsOptions,
} from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { ProvisioningTlsConfig } from '../config';
import { macsInCertificate, type PresentedCertificate } from '../domain/devicecert';
import { caCertificates } from '../lib/pem';

/** A certificate, key or CA file that cannot be used; the message names the setting. */
export class TlsFileError extends Error {
  constructor(variable: string, file: string, why: string) {
    super(`${variable} (${file}): ${why}`);
    this.name = 'TlsFileError';
  }
}

function read(variable: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsFileError(variable, file, (err as Error).message);
  }
}

/** Every certificate of a PEM bundle, each of them a CA: a leaf here would trust one phone only. */
function caBundle(file: string): string[] {
  try {
    return caCertificates(read('PROVISIONING_DEVICE_CA', file));
  } catch (err) {
    if (err instanceof TlsFileError) throw err;
    throw new TlsFileError('PROVISIONING_DEVICE_CA', file, (err as Error).message);
  }
}

/**
 * The secure context of the provisioning HTTPS server, read from the files now. Throws
 * TlsFileError for a missing or unusable file and for a key that does not fit the certificate.
 */
function secureContextOptions(cfg: ProvisioningTlsConfig): SecureContextOptions {
  const opts: SecureContextOptions = {
    cert: read('PROVISIONING_TLS_CERT', cfg.certFile),
    key: read('PROVISIONING_TLS_KEY', cfg.keyFile),
    ...(cfg.deviceCaFile === null ? {} : { ca: caBundle(cfg.deviceCaFile) }),
  };
  try {
    createSecureContext(opts);
  } catch (err) {
    throw new TlsFileError('PROVISIONING_TLS_CERT', cfg.certFile, `with its key: ${(err as Error).message}`);
  }
  return opts;
}

/**
 * Server options: with device CAs, a client certificate is asked for but not demanded, so that a
 * phone without one still connects and the tenant's policy decides (see domain/devicecert).
 */
export function tlsServerOptions(cfg: ProvisioningTlsConfig): TlsOptions {
  return {
    ...secureContextOptions(cfg),
    ...(cfg.deviceCaFile === null ? {} : { requestCert: true, rejectUnauthorized: false }),
  };
}

/**
 * Re-reads the files into the listening server (SIGHUP): new connections get the new certificate,
 * open ones keep theirs, the listener stays. On a bad file it throws and the old context stays.
 */
export function reloadTls(app: FastifyInstance, cfg: ProvisioningTlsConfig): void {
  (app.server as unknown as Server).setSecureContext(secureContextOptions(cfg));
}

/** The client certificate of a request's connection, as the TLS layer judged it. */
export function presentedCertificate(socket: Socket): PresentedCertificate {
  if (!(socket instanceof TLSSocket)) return { kind: 'none' };
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { kind: 'none' };
  if (!socket.authorized)
    return { kind: 'untrusted', error: String(socket.authorizationError ?? 'not verified') };
  return {
    kind: 'trusted',
    macs: macsInCertificate({
      CN: cert.subject?.CN,
      ST: cert.subject?.ST,
      subjectaltname: cert.subjectaltname,
    }),
  };
}
