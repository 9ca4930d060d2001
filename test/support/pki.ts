import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OPENSSL_CNF = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = ca_default
[ ca_default ]
database = index.txt
new_certs_dir = .
rand_serial = yes
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
preserve = yes
[ policy_any ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth,serverAuth
`;

/** A certificate authority made with the openssl CLI in a throwaway directory. */
export class TestCa {
  readonly pem: string;
  /** The file holding `pem`. */
  readonly file: string;
  private readonly keyFile: string;
  private n = 0;

  constructor(
    private readonly dir: string,
    readonly name: string,
  ) {
    this.keyFile = path.join(dir, `${name}.key`);
    const pemFile = path.join(dir, `${name}.pem`);
    openssl(dir, [
      'req', '-x509', '-config', 'openssl.cnf', '-extensions', 'v3_ca', '-newkey', 'ec',
      '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', this.keyFile, '-out', pemFile,
      '-subj', `/CN=${name}`, '-days', '30',
    ]); // prettier-ignore
    this.pem = fs.readFileSync(pemFile, 'utf8');
    this.file = pemFile;
  }

  /** A leaf certificate, valid from a day ago for 30 days unless told otherwise. */
  issue(
    subject: string,
    opts: { san?: string; validFrom?: Date; validTo?: Date } = {},
  ): { cert: string; key: string; certFile: string; keyFile: string } {
    const base = path.join(this.dir, `${this.name}-leaf${++this.n}`);
    const day = 86_400_000;
    const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
    openssl(this.dir, [
      'req', '-new', '-config', 'openssl.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject,
      ...(opts.san ? ['-addext', `subjectAltName=${opts.san}`] : []),
    ]); // prettier-ignore
    openssl(this.dir, [
      'ca', '-batch', '-config', 'openssl.cnf', '-extensions', 'leaf', '-cert', `${this.name}.pem`,
      '-keyfile', this.keyFile, '-in', `${base}.csr`, '-out', `${base}.pem`, '-notext',
      '-startdate', stamp(opts.validFrom ?? new Date(Date.now() - day)),
      '-enddate', stamp(opts.validTo ?? new Date(Date.now() + 30 * day)),
    ]); // prettier-ignore
    return {
      cert: fs.readFileSync(`${base}.pem`, 'utf8'),
      key: fs.readFileSync(`${base}.key`, 'utf8'),
      certFile: `${base}.pem`,
      keyFile: `${base}.key`,
    };
  }
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function pkiDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-pki-'));
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CNF);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  return dir;
}
